"""Angle convention, buckets, input checks and the canonical mesh reader (no network models)."""

import math
import struct

import numpy as np
import pytest

from fsr.pose.common import (
    Pose,
    PoseInputError,
    bucket_labels,
    check_rgb,
    opencv_to_gl,
    pose_bucket,
    rotation_to_ypr,
    ypr_to_rotation,
)


@pytest.mark.parametrize("ypr", [(0, 0, 0), (30, -10, 5), (-60, 20, -15), (80, 5, 170)])
def test_rotation_round_trip(ypr):
    assert np.allclose(rotation_to_ypr(ypr_to_rotation(*ypr)), ypr, atol=1e-9)


def test_sign_convention():
    nose = np.array([0.0, 0.0, 1.0])  # canonical face: z out of the nose, GL camera axes
    assert (ypr_to_rotation(20, 0, 0) @ nose)[0] > 0.3  # yaw > 0: nose to image right
    assert (ypr_to_rotation(0, 20, 0) @ nose)[1] > 0.3  # pitch > 0: nose up (GL y up)
    up = ypr_to_rotation(0, 0, 20) @ np.array([0.0, 1.0, 0.0])
    assert up[0] < -0.3  # roll > 0: counter-clockwise, the top of the head moves left
    # OpenCV camera (y down, z forward) of a frontal face is diag(1, -1, -1) away from GL
    assert np.allclose(rotation_to_ypr(opencv_to_gl(np.diag([1.0, -1.0, -1.0]))), 0, atol=1e-9)


def test_default_buckets():
    assert bucket_labels() == ["0-15", "15-30", "30-45", "45+"]
    assert [pose_bucket(y) for y in (0, 14.9, 15, -20, 44.99, -45, 90)] == [
        "0-15", "0-15", "15-30", "15-30", "30-45", "45+", "45+"]
    assert Pose(-31.0, 0, 0, True).bucket == "30-45" and Pose().bucket is None


def test_custom_buckets_and_errors():
    edges = (0, 10, 20, math.inf)
    assert bucket_labels(edges) == ["0-10", "10-20", "20+"]
    assert pose_bucket(-12.5, edges=edges) == "10-20"
    assert pose_bucket(7.5, edges=(0, 5, 10)) == "5-10"
    for bad in [(5, 10), (0, 10, 10), (0,)]:
        with pytest.raises(ValueError):
            pose_bucket(3.0, edges=bad)
    with pytest.raises(ValueError):
        pose_bucket(float("nan"))
    with pytest.raises(ValueError, match="beyond"):
        pose_bucket(12.0, edges=(0, 5, 10))


def test_check_rgb():
    grey = np.zeros((8, 9), np.uint8)
    assert check_rgb(grey).shape == (8, 9, 3)
    assert check_rgb(np.zeros((8, 8, 4), np.uint8)).shape == (8, 8, 3)
    for bad in [np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 2), np.uint8),
                np.zeros((1, 8, 3), np.uint8), np.zeros((2, 8, 8, 3), np.uint8), [[0]]]:
        with pytest.raises(PoseInputError):
            check_rgb(bad)
    assert issubclass(PoseInputError, ValueError)


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def test_geometry_metadata_parser_on_handmade_protobuf():
    from fsr.pose.canonical import parse_geometry_metadata

    verts = [0, 0, 0, 0.5, 0.5, 1, 0, 0, 1.0, 0.5, 0, 1, 0.25, 0.5, 1.0]
    packed = b"".join(struct.pack("<f", v) for v in verts)
    mesh = (b"\x08\x00" + b"\x10\x00"  # vertex_type, primitive_type
            + b"\x1a" + _varint(len(packed)) + packed  # packed vertex_buffer (field 3)
            + b"".join(b"\x20" + _varint(i) for i in (0, 1, 2)))  # unpacked index_buffer
    ref = b"\x08" + _varint(2) + b"\x15" + struct.pack("<f", 0.75)
    buf = b"\x0a" + _varint(len(mesh)) + mesh + b"\x12" + _varint(len(ref)) + ref + b"\x18\x01"
    m = parse_geometry_metadata(buf)
    assert m.vertices.shape == (3, 3) and m.triangles.tolist() == [[0, 1, 2]]
    assert np.allclose(m.vertices[1], [1, 0, 0]) and np.allclose(m.uv[2], [0.5, 1.0])
    assert m.procrustes_ids.tolist() == [2] and np.allclose(m.procrustes_weights, [0.75])
    with pytest.raises(ValueError):
        parse_geometry_metadata(b"\x12\x00")


def test_canonical_mesh_from_task_file():
    from fsr.pose.canonical import canonical_mesh

    m = canonical_mesh()
    assert m.vertices.shape == (468, 3) and m.triangles.shape == (898, 3)
    assert m.triangles.min() == 0 and m.triangles.max() == 467
    assert m.vertices[33, 0] < 0 < m.vertices[263, 0]  # subject's right eye on image left
    assert m.vertices[1, 2] == m.vertices[:, 2].max() or m.vertices[1, 2] > 7  # nose tip in front
    v = m.vertices[m.triangles]
    normals = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    assert (normals[:, 2] > 0).mean() > 0.95  # counter-clockwise seen from the front
    assert len(m.procrustes_ids) > 20 and m.procrustes_weights.min() >= 0
