"""The Gradio app (UI only; the work is done by fsr)."""
