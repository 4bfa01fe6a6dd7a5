# Zero-employment scan (QUALITY.md): 1,000,000 persons in 400,000 households against one bare SQL count
# of the same households; again at 1/10 size for the growth ratio (target ≤ 12). Data: the deterministic
# generator of the feature's tests (tests/Lingyuan.Jobs.Tests/ZeroEmployment/synthetic-households.sql).
# Ours is the real `zero-employment check --dry-run`: its scan_ms column is the scan statement alone,
# set against the bound's statement time (psql \timing); a second row gives the whole dry-run process
# (every case and mail built, then rolled back) with its peak RSS, without a bound.
ze_data() { # DB HOUSEHOLDS
  fresh_db "$1"
  { cat "$REPO_ROOT/tests/Lingyuan.Jobs.Tests/ZeroEmployment/synthetic-households.sql"
    echo "SELECT pg_temp.ze_synthetic($2, 'bench.test');"; } | psql_bench "$1" >/dev/null
  psql_bench "$1" -c "VACUUM ANALYZE app.persons" -c "CHECKPOINT" >/dev/null
}

# ze_round DB PREFIX: the bound twice and one dry run; appends the statement times (s) to PREFIX-bound.s,
# PREFIX-plain.s and PREFIX-scan.s. The register has one household index, the scan's covering one
# (migration 0070), which the bound reads as it is; for comparison the bound is also timed on a plain
# household index made for that statement alone (the narrowest index a count of households can read).
ze_round() {
  local db=$1 p=$2 count="SELECT count(*) FROM (SELECT household_no FROM app.persons GROUP BY household_no) h"
  measure "$p-bound-proc" "${PSQL[@]}" -d "$db" -c '\timing on' -c "$count"
  awk '/^Time: / { print $2 / 1000 }' "$p-bound-proc.log" >>"$p-bound.s"
  psql_bench "$db" -c "CREATE INDEX bench_household_plain ON app.persons (household_no)" -c "VACUUM ANALYZE app.persons" >/dev/null
  measure "$p-plain-proc" "${PSQL[@]}" -d "$db" -c '\timing on' -c "$count"
  awk '/^Time: / { print $2 / 1000 }' "$p-plain-proc.log" >>"$p-plain.s"
  psql_bench "$db" -c "DROP INDEX app.bench_household_plain" >/dev/null
  measure "$p-check" dotnet "$DLL" zero-employment check --dry-run --as-of 2026-11-28
  # Columns by their header names, not positions (the check's output gains columns as the rules grow).
  awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
               $1 == "2026-11-28" && $col["dry_run"] == "yes" { print $col["scan_ms"] / 1000 }' "$p-check.log" >>"$p-scan.s"
  [ -s "$p-scan.s" ] || { echo "no scan_ms in the dry run's output" >&2; cat "$p-check.log" >&2; return 1; }
}

bench_zero_employment() {
  local persons small_persons
  rm -f "$WORK"/ze-*
  ze_data bench_ze_small "$(nominal 40000)"
  small_persons=$(psql_bench bench_ze_small -tAc "SELECT count(*) FROM app.persons")
  for _ in $(seq "$REPEAT"); do ze_round bench_ze_small "$WORK/ze-small"; done
  psql_bench postgres -c "DROP DATABASE bench_ze_small WITH (FORCE)" >/dev/null

  ze_data bench_ze "$(nominal 400000)"
  persons=$(psql_bench bench_ze -tAc "SELECT count(*) FROM app.persons")
  for _ in $(seq "$REPEAT"); do ze_round bench_ze "$WORK/ze"; done
  local rss
  rss=$(sort -n "$WORK/ze-check.rss" | tail -1)
  bench_row "zero-employment scan ($(python3 -c "print(f'{$(nominal 400000):,}')") households; scan_ms vs GROUP BY count)" "$persons" "$(median "$WORK/ze-scan.s")" "$(median "$WORK/ze-bound.s")" "$rss"
  bench_row "zero-employment scan (bound: the count on a plain household index made for it)" "$persons" "$(median "$WORK/ze-scan.s")" "$(median "$WORK/ze-plain.s")" "$rss"
  bench_row "zero-employment scan, 1/10 size ($(python3 -c "print(f'{$(nominal 40000):,}')") households)" "$small_persons" "$(median "$WORK/ze-small-scan.s")" "$(median "$WORK/ze-small-bound.s")" "$(sort -n "$WORK/ze-small-check.rss" | tail -1)"
  bench_row "zero-employment scan growth: full size vs 1/10 (ratio = growth, target ≤ 12)" "$persons" "$(median "$WORK/ze-scan.s")" "$(median "$WORK/ze-small-scan.s")" "$rss"
  bench_row "zero-employment check --dry-run, whole process (cases + mails, rolled back)" "$persons" "$(median "$WORK/ze-check.s")" 0 "$rss"
  psql_bench postgres -c "DROP DATABASE bench_ze WITH (FORCE)" >/dev/null
}
