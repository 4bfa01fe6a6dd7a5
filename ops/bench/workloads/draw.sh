# Double-random draw + verify (QUALITY.md): 100,000 employers, 1,000 inspectors, 2,000 conflicts, teams
# of 2; target ≤ 1 s each, no bound. Pure and in memory (DrawBenchmark.Measure in the
# bench console); each figure is the best of --repeat runs inside one process.
bench_draw() {
  local inspectors
  inspectors=$(nominal 1000)
  [ "$inspectors" -ge 20 ] || inspectors=20 # a tiny scale still needs enough inspectors for teams of 2
  rm -f "$WORK"/dr*
  measure "$WORK/draw" dotnet "$TOOL" draw "$(nominal 100000)" "$inspectors" "$(nominal 2000)" "$REPEAT"
  tool_rows "$WORK/draw"
}
