"""Spaces entry point; the app is demo/app.py.

Before the page lists its methods, the peers' weights (GFPGAN v1.4, CodeFormer, RetinaFace,
ParseNet) are fetched from their official URLs with sha256 when the network allows
(demo/peers.py); offline the page says which are missing and how to add them. Requests
themselves never download (demo.app.main serves with FSR_OFFLINE=1).
"""
import logging

from demo.peers import fetch_peers

logging.basicConfig(level=logging.INFO)
PEERS = fetch_peers()

from demo.app import build_demo, main  # noqa: E402  (after the peers: it lists the methods)

demo = build_demo(PEERS)
if __name__ == "__main__":
    main([], demo)
