"""Spaces entry point; the app is demo/app.py."""
from demo.app import build_demo, main

demo = build_demo()
if __name__ == "__main__":
    main([], demo)
