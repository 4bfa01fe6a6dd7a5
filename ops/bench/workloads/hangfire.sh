# Hangfire round trip (QUALITY.md): 10,000 trivial jobs on PostgreSQL storage against Hangfire.InMemory
# in the same process and run; report jobs/s (target ≥ 150). The bench console configures Hangfire as the
# app does (schema hangfire, the app's storage options, the app's default worker count) and times from
# the first enqueue to the last job succeeded. One run (not --repeat): it is long and the bound is beside it.
bench_hangfire() {
  rm -f "$WORK"/hf*
  fresh_db bench_hangfire
  measure "$WORK/hf" dotnet "$TOOL" hangfire "$(nominal 10000)"
  tool_rows "$WORK/hf"
  psql_bench postgres -c "DROP DATABASE bench_hangfire WITH (FORCE)" >/dev/null
}
