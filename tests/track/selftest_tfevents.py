#!/usr/bin/env python3
"""selftest_tfevents.py - the TensorBoard event file written by track_fixture, checked two ways:

  selftest_tfevents.py FIXTURE_RUN_DIR WORK_DIR

1. check_tfevents.py passes on FIXTURE_RUN_DIR/tb with the values the fixture logged
   (recomputed here from its documented formulas, compared as float32): 50 steps of loss, lr,
   grad_norm (NaN at step 7), eval/fid every 10th step, 42x42 RGB "samples" images at steps 10
   and 49; 1 + 50 + 2 records; the CRC32C implementation matches the published check value.
2. Damaged copies must fail: a flipped payload byte, a flipped length byte, a flipped data-CRC
   byte, a truncated file, trailing garbage, and (with CRCs recomputed so only the content is
   wrong) a broken PNG chunk, a missing file_version record and a changed scalar value.
Exit 0 when everything holds, 1 otherwise. Standard library only.
"""
import math
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tfevents as ct  # noqa: E402


def expected():
    scalars = {}
    for s in range(50):
        scalars[("loss", s)] = 2.0 / (1.0 + s) + 0.05
        scalars[("lr", s)] = 1e-3 * min(1.0, (s + 1) / 10.0)
        scalars[("grad_norm", s)] = math.nan if s == 7 else 1.0 + 0.01 * s
        if s % 10 == 9:
            scalars[("eval/fid", s)] = 300.0 / (s + 1)
    images = {("samples", 10): (42, 42, 3), ("samples", 49): (42, 42, 3)}
    return {"scalars": scalars, "exact_scalars": True, "images": images, "events": 53}


def frame(payload):
    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", ct.masked_crc32c(head)) + payload + struct.pack("<I", ct.masked_crc32c(payload))


def reframe(payloads):
    return b"".join(frame(p) for p in payloads)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    tb = os.path.join(sys.argv[1], "tb")
    work = sys.argv[2]
    failed = 0
    if ct.crc32c(b"123456789") != 0xE3069283:
        print("crc32c check value wrong")
        failed += 1
    files = ct.event_files(tb)
    if len(files) != 1:
        print(f"expected one event file in {tb}, found {files}")
        return 1
    path = files[0]
    if not os.path.basename(path).startswith("events.out.tfevents."):
        print(f"bad file name {path}")
        failed += 1
    errors, events = ct.check_file(path, expected())
    for e in errors:
        print("good file:", e)
    failed += bool(errors)
    if events:
        print(f"good file: {len(events)} records, first {events[0]['file_version']!r}")

    data = open(path, "rb").read()
    payloads = ct.read_records(data)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    img_idx = next(i for i, ev in enumerate(events) if ev["summary"] and ev["summary"][0]["image"])
    first_len = 12 + len(payloads[0]) + 4

    def flip(buf, off):
        b = bytearray(buf)
        b[off] ^= 0x20
        return bytes(b)

    def broken_png():
        p = bytearray(payloads[img_idx])
        at = p.find(b"IHDR")
        p[at + 6] ^= 1  # a byte of the width: the PNG chunk CRC no longer matches
        return reframe(payloads[:img_idx] + [bytes(p)] + payloads[img_idx + 1:])

    def changed_value():
        p = bytearray(payloads[1])
        at = p.find(b"loss\x15")  # Value.tag "loss", then simple_value (field 2, fixed32)
        assert at > 0
        p[at + 5] ^= 1
        return reframe([payloads[0], bytes(p)] + payloads[2:])

    cases = [("payload byte flipped", flip(data, 12 + 3), "data CRC mismatch"),
             ("length byte flipped", flip(data, first_len + 1), "length CRC mismatch"),
             ("data CRC byte flipped", flip(data, len(data) - 2), "data CRC mismatch"),
             ("truncated", data[:-3], "truncated"),
             ("trailing garbage", data + b"\x00" * 5, "trailing bytes"),
             ("broken PNG, valid CRCs", broken_png(), "PNG"),
             ("no file_version record", reframe(payloads[1:]), "file_version"),
             ("changed scalar, valid CRCs", changed_value(), "expected")]
    for i, (name, blob, words) in enumerate(cases):
        p = os.path.join(work, f"c{i}.events.out.tfevents.0000000000.test")
        with open(p, "wb") as f:
            f.write(blob)
        errs, _ = ct.check_file(p, expected())
        hit = [e for e in errs if words in e]
        if not hit:
            print(f"damaged file '{name}' not detected (wanted '{words}'): {errs}")
            failed += 1
        else:
            print(f"damaged file '{name}': detected: {hit[0]}")
    # An untouched re-framing passes, so the damage above is what the checker caught.
    p = os.path.join(work, "same.events.out.tfevents.0000000000.test")
    with open(p, "wb") as f:
        f.write(reframe(payloads))
    errs, _ = ct.check_file(p, expected())
    if errs:
        print("re-framed copy fails:", errs)
        failed += 1
    print("FAILED" if failed else "ok: event file valid, every damaged copy rejected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
