"""The camera rig: read token displays with a webcam, press buttons with a USB relay board."""
