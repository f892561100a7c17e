#!/usr/bin/env python3
"""check_tfevents.py - validates a TensorBoard event file without TensorFlow or protobuf.

  check_tfevents.py PATH [--expect-scalar TAG:STEP:VALUE]... [--expect-image TAG:STEP:W:H:CS]...
                         [--expect-events N]

PATH is an event file or a directory holding files whose name contains "tfevents".
Rules checked (formats.md section 2):
  * TFRecord framing: u64 LE length | u32 masked CRC32C(length bytes) | payload |
    u32 masked CRC32C(payload); CRC32C = Castagnoli (reflected 0x82F63B78), computed here with
    its own table; mask = rotate right 15 + 0xA282EAD8. Every record, no trailing bytes.
  * payloads are protobuf `Event`s, decoded by hand (varints, fixed64/32, length-delimited):
    wall_time(1, double), step(2, int64), file_version(3), summary(5), session_log(7).
  * the first record is Event{wall_time, file_version="brain.Event:2"}; wall times are Unix
    seconds; steps are >= 0.
  * Summary.Value: tag(1), simple_value(2, float32) or image(4: height 1, width 2,
    colorspace 3, encoded_image_string 4); images must be valid PNGs (signature, chunk CRCs,
    IHDR size equal to height/width, IDAT inflating to the right size).
Exit 0 when valid, 1 with one line per problem otherwise. Standard library only.
Knows nothing about how the file was written.
"""
import argparse
import math
import os
import struct
import sys
import zlib


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class CheckError(Exception):
    pass


def read_records(data):
    """Payloads of every record; raises CheckError naming the offset of the first bad one."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise CheckError(f"offset {pos}: {len(data) - pos} trailing bytes, not a record header")
        (n,) = struct.unpack_from("<Q", data, pos)
        (lcrc,) = struct.unpack_from("<I", data, pos + 8)
        if lcrc != masked_crc32c(data[pos:pos + 8]):
            raise CheckError(f"offset {pos}: length CRC mismatch")
        if len(data) - pos - 12 < n + 4:
            raise CheckError(f"offset {pos}: record of {n} bytes is truncated")
        payload = data[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack_from("<I", data, pos + 12 + n)
        if dcrc != masked_crc32c(payload):
            raise CheckError(f"offset {pos}: data CRC mismatch")
        out.append(payload)
        pos += 12 + n + 4
    return out


def _varint(buf, pos):
    value, shift = 0, 0
    for i in range(10):
        if pos >= len(buf):
            raise CheckError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    raise CheckError("varint longer than 10 bytes")


def parse_message(buf):
    """[(field, wiretype, value)]: ints for varints, bytes for fixed and length-delimited."""
    fields, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise CheckError("field number 0")
        if wt == 0:
            v, pos = _varint(buf, pos)
        elif wt == 1 or wt == 5:
            n = 8 if wt == 1 else 4
            if pos + n > len(buf):
                raise CheckError("truncated fixed-width field")
            v, pos = buf[pos:pos + n], pos + n
        elif wt == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise CheckError(f"length-delimited field {field} runs past the end")
            v, pos = buf[pos:pos + n], pos + n
        else:
            raise CheckError(f"unsupported wire type {wt} (field {field})")
        fields.append((field, wt, v))
    return fields


def _int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _expect_wt(field, wt, want, where):
    if wt != want:
        raise CheckError(f"{where}: field {field} has wire type {wt}, expected {want}")


def decode_image(buf):
    img = {"height": 0, "width": 0, "colorspace": 0, "png": b""}
    names = {1: "height", 2: "width", 3: "colorspace"}
    for field, wt, v in parse_message(buf):
        if field in names:
            _expect_wt(field, wt, 0, "Image")
            img[names[field]] = _int64(v)
        elif field == 4:
            _expect_wt(field, wt, 2, "Image")
            img["png"] = v
    return img


def decode_value(buf):
    val = {"tag": None, "simple_value": None, "image": None}
    for field, wt, v in parse_message(buf):
        if field == 1:
            _expect_wt(field, wt, 2, "Value")
            val["tag"] = v.decode("utf-8")
        elif field == 2:
            _expect_wt(field, wt, 5, "Value")
            val["simple_value"] = struct.unpack("<f", v)[0]
        elif field == 4:
            _expect_wt(field, wt, 2, "Value")
            val["image"] = decode_image(v)
    return val


def decode_event(buf):
    ev = {"wall_time": None, "step": 0, "file_version": None, "summary": None, "session_log": None}
    for field, wt, v in parse_message(buf):
        if field == 1:
            _expect_wt(field, wt, 1, "Event")
            ev["wall_time"] = struct.unpack("<d", v)[0]
        elif field == 2:
            _expect_wt(field, wt, 0, "Event")
            ev["step"] = _int64(v)
        elif field == 3:
            _expect_wt(field, wt, 2, "Event")
            ev["file_version"] = v.decode("utf-8")
        elif field == 5:
            _expect_wt(field, wt, 2, "Event")
            ev["summary"] = [decode_value(vb) for f2, wt2, vb in parse_message(v) if f2 == 1]
        elif field == 7:
            _expect_wt(field, wt, 2, "Event")
            status = 0
            for f2, wt2, v2 in parse_message(v):
                if f2 == 1 and wt2 == 0:
                    status = v2
            ev["session_log"] = {"status": status}
    return ev


def check_png(data, height, width, colorspace):
    """Problems with PNG bytes declared as height x width with a Summary.Image colorspace."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return ["PNG signature missing"]
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        if pos + 12 > len(data):
            return ["PNG chunk header truncated"]
        (n,) = struct.unpack_from(">I", data, pos)
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if pos + 12 + n > len(data):
            return [f"PNG chunk {ctype!r} truncated"]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + n)
        if crc != zlib.crc32(ctype + body) & 0xFFFFFFFF:
            return [f"PNG chunk {ctype!r} CRC mismatch"]
        chunks.append((ctype, body))
        if ctype == b"IDAT":
            idat += body
        pos += 12 + n
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        return ["PNG does not start with IHDR"]
    if chunks[-1][0] != b"IEND":
        return ["PNG does not end with IEND"]
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    errs = []
    if (w, h) != (width, height):
        errs.append(f"PNG is {w}x{h} but the Image says {width}x{height}")
    chans = {0: 1, 4: 2, 2: 3, 6: 4}.get(ctype)
    if depth != 8 or chans is None:
        return errs + [f"PNG colour type {ctype} / depth {depth} unexpected"]
    if {1: 1, 2: 2, 3: 3, 4: 4}.get(colorspace) != chans:
        errs.append(f"Image colorspace {colorspace} does not match PNG colour type {ctype}")
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        return errs + [f"PNG IDAT does not inflate: {e}"]
    if interlace == 0 and len(raw) != h * (1 + w * chans):
        errs.append(f"PNG IDAT inflates to {len(raw)} bytes, expected {h * (1 + w * chans)}")
    return errs


def event_files(path):
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path) if "tfevents" in f)
    return [path]


def check_file(path, expect=None):
    """(errors, events) for one event file; expect: {'scalars': {(tag, step): value},
    'exact_scalars': True (no other scalar points allowed), 'images': {(tag, step): (w, h, cs)},
    'events': n}."""
    errors = []
    try:
        with open(path, "rb") as f:
            data = f.read()
        payloads = read_records(data)
        events = [decode_event(p) for p in payloads]
    except (CheckError, UnicodeDecodeError, OSError) as e:
        return [f"{path}: {e}"], []
    if not events:
        return [f"{path}: no records"], []
    first = events[0]
    if first["file_version"] != "brain.Event:2":
        errors.append(f"{path}: first record is not file_version 'brain.Event:2' ({first['file_version']!r})")
    for i, ev in enumerate(events):
        wt = ev["wall_time"]
        if wt is None or not (1e9 < wt < 5e9):
            errors.append(f"{path}: record {i}: wall_time {wt!r} is not Unix seconds")
        if ev["step"] < 0:
            errors.append(f"{path}: record {i}: negative step {ev['step']}")
        if i > 0 and ev["file_version"] is not None:
            errors.append(f"{path}: record {i}: file_version after the first record")
        for v in ev["summary"] or []:
            if not v["tag"]:
                errors.append(f"{path}: record {i}: summary value without a tag")
            if (v["simple_value"] is None) == (v["image"] is None):
                errors.append(f"{path}: record {i}: value '{v['tag']}' is neither one scalar nor one image")
            if v["image"] is not None:
                im = v["image"]
                errors += [f"{path}: record {i}: image '{v['tag']}': {e}"
                           for e in check_png(im["png"], im["height"], im["width"], im["colorspace"])]
    expect = expect or {}
    scalars = {}
    images = {}
    for ev in events:
        for v in ev["summary"] or []:
            if v["simple_value"] is not None:
                scalars[(v["tag"], ev["step"])] = v["simple_value"]
            if v["image"] is not None:
                images[(v["tag"], ev["step"])] = (v["image"]["width"], v["image"]["height"], v["image"]["colorspace"])
    for key, want in expect.get("scalars", {}).items():
        got = scalars.get(key)
        want32 = struct.unpack("<f", struct.pack("<f", want))[0]
        if got is None:
            errors.append(f"{path}: scalar {key} missing")
        elif not (got == want32 or (math.isnan(got) and math.isnan(want32))):
            errors.append(f"{path}: scalar {key} value {got!r}, expected {want32!r}")
    if expect.get("exact_scalars") and len(scalars) != len(expect.get("scalars", {})):
        errors.append(f"{path}: {len(scalars)} scalar points, expected {len(expect['scalars'])}")
    for key, want in expect.get("images", {}).items():
        if images.get(key) != want:
            errors.append(f"{path}: image {key} is {images.get(key)}, expected {want}")
    if "events" in expect and len(events) != expect["events"]:
        errors.append(f"{path}: {len(events)} records, expected {expect['events']}")
    return errors, events


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("--expect-scalar", action="append", default=[], metavar="TAG:STEP:VALUE")
    ap.add_argument("--expect-image", action="append", default=[], metavar="TAG:STEP:W:H:CS")
    ap.add_argument("--expect-events", type=int)
    a = ap.parse_args(argv)
    expect = {}
    for s in a.expect_scalar:
        tag, step, value = s.rsplit(":", 2)
        expect.setdefault("scalars", {})[(tag, int(step))] = float(value)
    for s in a.expect_image:
        tag, step, w, h, cs = s.rsplit(":", 4)
        expect.setdefault("images", {})[(tag, int(step))] = (int(w), int(h), int(cs))
    if a.expect_events is not None:
        expect["events"] = a.expect_events
    files = event_files(a.path)
    if not files:
        print(f"{a.path}: no event files")
        return 1
    errors = []
    for f in files:
        errs, events = check_file(f, expect if len(files) == 1 else None)
        errors += errs
        print(f"{f}: {len(events)} records")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
