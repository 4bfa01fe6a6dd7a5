# A register file whose second line is 1 GiB (QUALITY.md, bad input): the import must refuse it with
# exit 65 in bounded memory. No bound to compare with; the figures are the time and peak RSS.
bench_long_line() {
  local file="$WORK/long-line.csv" mib
  mib=$(nominal 1024)
  python3 - "$file" "$mib" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id_number,name,household_no,street,community,hukou,able_to_work,wants_work,employment,employment_since,business_income\n")
    chunk = "A" * (1 << 20)
    for _ in range(int(sys.argv[2])):
        f.write(chunk)
    f.write("\n")
PY
  fresh_db bench_long_line
  rm -f "$WORK"/ll-*
  for _ in $(seq "$REPEAT"); do
    MEASURE_EXPECT=65 measure "$WORK/ll" dotnet "$DLL" import persons "$file"
    grep -q "long-line.csv:2: line: is longer than" "$WORK/ll.log" || { cat "$WORK/ll.log" >&2; return 1; }
  done
  bench_row "refuse a ${mib} MiB line (exit 65)" 1 "$(median "$WORK/ll.s")" 0 "$(sort -n "$WORK/ll.rss" | tail -1)"
  rm -f "$file"
}
