#!/usr/bin/env python3
"""An outsider's check of a published "double random" draw (docs/draw-algorithm.md).

Written from the document alone, with Python's standard library; it shares no code with the service.

    python3 drawcheck.py draw-12-proof.zip        # the bundle from /public/draws/12/proof.zip
    python3 drawcheck.py DIR                       # proof.txt, snapshot.txt, result.txt (draw export-proof)

Exit 0 when every check passes; 1 naming each failed check; 2 when the files cannot be read.
"""
import datetime
import hashlib
import os
import re
import struct
import sys
import zipfile

VERSIONS = ("ly-draw-1", "ly-draw-2")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def read_bundle(path):
    names = ("proof.txt", "snapshot.txt", "result.txt")
    if os.path.isdir(path):
        return [open(os.path.join(path, n), "rb").read() for n in names]
    with zipfile.ZipFile(path) as z:
        return [z.read(n) for n in names]


def parse_proof(data):
    lines = data.decode("utf-8").split("\n")
    if lines[0] != "ly-proof-1" or lines[-1] != "":
        raise ValueError("proof.txt: not a ly-proof-1 file ending in LF")
    fields = {}
    for line in lines[1:-1]:
        key, value = line.split("\t", 1)
        fields[key] = value
    return fields


def parse_snapshot(text):
    lines = text.split("\n")
    if lines[-1] != "":
        raise ValueError("snapshot does not end with LF")
    lines = lines[:-1]
    version = lines[0]
    if version not in VERSIONS:
        raise ValueError("snapshot: unknown version " + version)
    ratio_fields = lines[1].split("\t")
    assert ratio_fields[0] == "ratios" and [f[:2] for f in ratio_fields[1:]] == ["A=", "B=", "C=", "D="], "line 2"
    ratios = [int(f[2:]) for f in ratio_fields[1:]]
    team = int(lines[2].split("\t")[1])
    cap = int(lines[3].split("\t")[1])
    E, I, X, R = [], [], [], []
    for line in lines[4:]:
        kind, a, b = line.split("\t")
        {"E": E, "I": I, "X": X, "R": R}[kind].append((a, b))
    return version, ratios, team, cap, E, [(b, flag == "1") for (b, flag) in I], X, R


def canonical_snapshot(version, ratios, team, cap, E, I, X, R):
    """Re-encodes the parsed snapshot (sorted by UTF-8 bytes, no duplicates): it must give the same bytes."""
    key = lambda t: tuple(s.encode("utf-8") for s in t)
    out = [version, "ratios\tA=%d\tB=%d\tC=%d\tD=%d" % tuple(ratios), "team\t%d" % team, "cap\t%d" % cap]
    out += ["E\t%s\t%s" % e for e in sorted(set(E), key=key)]
    out += ["I\t%s\t%s" % (b, "1" if a else "0") for (b, a) in sorted(set(I), key=lambda t: t[0].encode("utf-8"))]
    out += ["X\t%s\t%s" % x for x in sorted(set(X), key=key)]
    out += ["R\t%s\t%s" % r for r in sorted(set(R), key=key)]
    return ("\n".join(out) + "\n").encode("utf-8")


class Stream:
    """SHA-256 in counter mode, read as big-endian 32-bit words (section 4)."""

    def __init__(self, seed):
        self.seed, self.counter, self.buf = seed, 0, b""

    def word(self):
        if not self.buf:
            self.buf = hashlib.sha256(self.seed + struct.pack(">Q", self.counter)).digest()
            self.counter += 1
        w, self.buf = struct.unpack(">I", self.buf[:4])[0], self.buf[4:]
        return w

    def below(self, n):
        limit = 2**32 - (2**32 % n)
        while True:
            x = self.word()
            if x < limit:
                return x % n


def seed_of(version, secret, plan_id, draw_date, snapshot_hash, public_value):
    data = secret + struct.pack(">q", plan_id) + draw_date.encode("ascii") + snapshot_hash
    if version == "ly-draw-2":
        data += hashlib.sha256(public_value.encode("utf-8")).digest()
    return hashlib.sha256(data).digest()


def draw(snapshot, seed):
    _, ratios, team, cap, E, I, X, R = snapshot
    X, R = set(X), set(R)
    rng = Stream(seed)
    selected = []
    for c, cls in enumerate("ABCD"):
        lst = [u for (u, k) in E if k == cls]
        k = (ratios[c] * len(lst) + 99) // 100
        for i in range(k):
            j = i + rng.below(len(lst) - i)
            lst[i], lst[j] = lst[j], lst[i]
            selected.append((cls, lst[i]))
    load = {b: 0 for (b, _) in I}
    rows, unassignable = [], []
    for cls, u in selected:
        cand = [b for (b, active) in I if active and load[b] < cap and (b, u) not in X and (b, u) not in R]
        if len(cand) < team:
            unassignable.append(u)
            continue
        chosen = [cand.pop(rng.below(len(cand))) for _ in range(team)]
        for b in chosen:
            load[b] += 1
        chosen.sort(key=lambda b: b.encode("utf-8"))
        rows.append("\t".join([cls, u] + chosen))
    return "".join(r + "\n" for r in rows).encode("utf-8"), unassignable


def utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def check(proof_bytes, snapshot_bytes, result_bytes):
    """Returns the list of failed checks (empty: the draw is what its inputs and the algorithm give)."""
    p = parse_proof(proof_bytes)
    problems = []
    version = p["algorithm"]
    if version not in VERSIONS:
        return ["algorithm %s is not one this checker implements" % version]
    secret = bytes.fromhex(p["secret"])
    if len(secret) != 32 or hashlib.sha256(secret).hexdigest() != p["commitment"]:
        problems.append("commitment: SHA-256 of the revealed secret is not the published commitment")
    snapshot_hash = hashlib.sha256(snapshot_bytes).digest()
    if snapshot_hash.hex() != p["snapshot_sha256"]:
        problems.append("snapshot: SHA-256 of snapshot.txt is %s, the proof says %s" % (snapshot_hash.hex(), p["snapshot_sha256"]))
    snapshot = parse_snapshot(snapshot_bytes.decode("utf-8"))
    if snapshot[0] != version:
        problems.append("snapshot: written for %s, the draw says %s" % (snapshot[0], version))
    if canonical_snapshot(*snapshot) != snapshot_bytes:
        problems.append("snapshot: not in canonical order or form")
    public_value = p.get("public_value")
    if version == "ly-draw-2":
        if public_value is None or not re.fullmatch(r"[0-9]{1,4}( [0-9]{1,4})*", public_value):
            problems.append("public value: missing or not numbers separated by single spaces")
        # Order of events (section 1): commitment published, snapshot frozen on or before the public value
        # date, the draw after that date; the public value date is not before the day before the draw date.
        published, frozen, drawn = utc(p["commitment_published_at"]), utc(p["snapshot_frozen_at"]), utc(p["drawn_at"])
        value_date = datetime.date.fromisoformat(p["public_value_date"])
        draw_date = datetime.date.fromisoformat(p["draw_date"])
        if not published <= frozen:
            problems.append("timing: the snapshot was frozen before the commitment was published")
        if frozen.astimezone(BEIJING).date() > value_date:
            problems.append("timing: the snapshot was frozen after the public value date")
        if drawn.astimezone(BEIJING).date() <= value_date:
            problems.append("timing: the draw ran before the public value existed")
        if value_date < draw_date - datetime.timedelta(days=1):
            problems.append("timing: the public value date is earlier than the day before the draw date")
    seed = seed_of(version, secret, int(p["plan_id"]), p["draw_date"], snapshot_hash, public_value or "")
    if seed.hex() != p["seed"]:
        problems.append("seed: recomputed %s, the proof says %s" % (seed.hex(), p["seed"]))
    expected, unassignable = draw(snapshot, seed)
    if unassignable:
        problems.append("result: the recomputed draw fails (%d employer(s) without a full team)" % len(unassignable))
    if hashlib.sha256(result_bytes).hexdigest() != p["result_sha256"]:
        problems.append("result: SHA-256 of result.txt is not the published result hash")
    if expected != result_bytes:
        got, want = result_bytes.decode("utf-8").split("\n"), expected.decode("utf-8").split("\n")
        for n, (g, w) in enumerate(zip(got, want), 1):
            if g != w:
                problems.append("result row %d: published %r, recomputed %r" % (n, g, w))
                break
        else:
            problems.append("result: published %d rows, recomputed %d" % (len(got) - 1, len(want) - 1))
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        files = read_bundle(argv[1])
        problems = check(*files)
    except (OSError, KeyError, ValueError, AssertionError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        print("cannot read the proof: %s" % e, file=sys.stderr)
        return 2
    for problem in problems:
        print("FAILED " + problem)
    if problems:
        return 1
    print("OK: commitment, snapshot hash, seed and every result row recomputed identically")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
