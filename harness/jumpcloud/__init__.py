"""jumpcloud"""
