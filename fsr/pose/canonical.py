"""MediaPipe's canonical face mesh, read from the geometry metadata inside ``face_landmarker.task``.

The .task file is a zip; its ``geometry_pipeline_metadata_landmarks.binarypb`` is a
``GeometryPipelineMetadata`` protobuf: field 1 the canonical ``Mesh3d`` (vertex_buffer of
x, y, z, u, v per vertex in cm, index_buffer of triangles), field 2 the weighted landmarks
MediaPipe uses for its Procrustes pose fit. A ~40-line wire-format reader avoids depending on
generated protobuf classes (mediapipe 1.2.2 ships none).

    >>> mesh = canonical_mesh()
    >>> mesh.vertices.shape, mesh.triangles.shape
    ((468, 3), (898, 3))
"""

from __future__ import annotations

import functools
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

METADATA_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"


@dataclass(frozen=True)
class CanonicalMesh:
    """Canonical face in cm: x to the subject's left (image right), y up, z out of the face."""

    vertices: np.ndarray  # (468, 3) float64
    uv: np.ndarray  # (468, 2) float64
    triangles: np.ndarray  # (898, 3) int64, counter-clockwise seen from the front
    procrustes_ids: np.ndarray  # (K,) int64
    procrustes_weights: np.ndarray  # (K,) float64


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _fields(buf: bytes) -> list[tuple[int, object]]:
    """Decode one protobuf message into (field number, value) pairs; packed runs stay bytes."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = struct.unpack("<d", buf[i : i + 8])[0], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = struct.unpack("<f", buf[i : i + 4])[0], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((field, value))
    return out


def _floats(fields: list, number: int) -> list[float]:
    vals: list[float] = []
    for f, v in fields:
        if f == number:  # either one float per field or a packed run
            vals.extend(struct.unpack(f"<{len(v) // 4}f", v) if isinstance(v, bytes) else [v])
    return vals


def _uints(fields: list, number: int) -> list[int]:
    vals: list[int] = []
    for f, v in fields:
        if f != number:
            continue
        if isinstance(v, bytes):
            i = 0
            while i < len(v):
                x, i = _varint(v, i)
                vals.append(x)
        else:
            vals.append(int(v))
    return vals


def parse_geometry_metadata(buf: bytes) -> CanonicalMesh:
    """Parse ``GeometryPipelineMetadata`` bytes into a :class:`CanonicalMesh`."""
    top = _fields(buf)
    meshes = [v for f, v in top if f == 1]
    if not meshes:
        raise ValueError("geometry metadata has no canonical mesh")
    mesh = _fields(meshes[0])
    vertex_buffer = np.asarray(_floats(mesh, 3), dtype=np.float64)
    if vertex_buffer.size == 0 or vertex_buffer.size % 5:
        raise ValueError(f"vertex buffer of {vertex_buffer.size} floats is not x,y,z,u,v rows")
    vertex_buffer = vertex_buffer.reshape(-1, 5)
    tris = np.asarray(_uints(mesh, 4), dtype=np.int64).reshape(-1, 3)
    ids, weights = [], []
    for f, v in top:
        if f == 2:
            ref = _fields(v)
            ids.append(next((int(x) for g, x in ref if g == 1), 0))
            weights.append(next((float(x) for g, x in ref if g == 2), 0.0))
    return CanonicalMesh(
        vertices=vertex_buffer[:, :3].copy(),
        uv=vertex_buffer[:, 3:].copy(),
        triangles=tris,
        procrustes_ids=np.asarray(ids, dtype=np.int64),
        procrustes_weights=np.asarray(weights, dtype=np.float64),
    )


def read_task_geometry(task_path: str | Path) -> CanonicalMesh:
    with zipfile.ZipFile(task_path) as zf:
        return parse_geometry_metadata(zf.read(METADATA_MEMBER))


@functools.lru_cache(maxsize=1)
def canonical_mesh() -> CanonicalMesh:
    """The canonical mesh of the ``mediapipe-face-landmarker`` asset (cached per process)."""
    from fsr.assets import resolve

    return read_task_geometry(resolve("mediapipe-face-landmarker"))
