"""deface's own CLI (``deface.deface:main``, what the ``deface`` command runs), with two counters
attached for ``bench_masking.py``: the pixels its network is given per frame and the box of every
mask it draws (after its own scaling and clipping). Neither changes what it computes.

    python -m benchmarks.deface_run FACTS.json -- [deface arguments...]
"""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    facts, args = argv[0], argv[argv.index("--") + 1:]
    import deface.deface as cli
    from deface.centerface import CenterFace

    frames: list[list] = []
    pixels, backend = [0], [None]
    call, draw = CenterFace.__call__, cli.draw_det

    def counted_call(self, img, threshold=0.5):
        h, w = img.shape[:2]
        in_shape = (w, h) if self.in_shape is None else tuple(self.in_shape)
        w_new, h_new, _, _ = self.shape_transform(in_shape, (h, w))
        pixels[0] += w_new * h_new
        backend[0] = self.backend
        frames.append([])
        return call(self, img, threshold)

    def recorded_draw(frame, score, det_idx, x1, y1, x2, y2, *a, **k):
        frames[-1].append([int(x1), int(y1), int(x2), int(y2)])
        return draw(frame, score, det_idx, x1, y1, x2, y2, *a, **k)

    CenterFace.__call__, cli.draw_det = counted_call, recorded_draw
    sys.argv = ["deface", *args]
    code = cli.main()
    with open(facts, "w") as fh:
        json.dump({"detector_pixels": pixels[0], "frames": len(frames), "boxes": frames, "backend": backend[0]}, fh)
    return code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
