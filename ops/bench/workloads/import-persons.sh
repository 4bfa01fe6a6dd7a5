# import persons (QUALITY.md): 1,000,000 rows, validate + upsert into an empty register, against a raw
# COPY of the same file into an unvalidated table (text columns, no keys) in the same run. More rows give
# context: the same COPY into a table with the register's types, generated columns and indexes but no
# checks; the floor, PostgreSQL's COPY into a text table with only the natural key; and a re-import of the
# unchanged file (the nightly case: nothing to write).
bench_import_persons() {
  local rows file
  rows=$(nominal 1000000)
  file="$WORK/persons.csv"
  python3 "$BENCH_DIR/gen_persons.py" "$rows" "$file"
  fresh_db bench_persons
  local cols="id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment, employment_since, business_income"
  psql_bench bench_persons -c "CREATE TABLE bound_text ($(echo "$cols" | sed 's/,/ text,/g') text)" \
    -c "CREATE TABLE bound_keyed ($(echo "$cols" | sed 's/,/ text,/g') text, PRIMARY KEY (id_number))" \
    -c "CREATE TABLE bound_typed (LIKE app.persons INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING INDEXES)"
  rm -f "$WORK"/ip-*
  for _ in $(seq "$REPEAT"); do
    psql_bench bench_persons -c "TRUNCATE bound_text, bound_keyed, bound_typed, app.persons" -c "CHECKPOINT"
    measure "$WORK/ip-bound" "${PSQL[@]}" -d bench_persons -c "\\copy bound_text FROM '$file' (FORMAT csv, HEADER true)"
    measure "$WORK/ip-keyed" "${PSQL[@]}" -d bench_persons -c "\\copy bound_keyed FROM '$file' (FORMAT csv, HEADER true)"
    measure "$WORK/ip-typed" "${PSQL[@]}" -d bench_persons -c "\\copy bound_typed ($cols) FROM '$file' (FORMAT csv, HEADER true)"
    psql_bench bench_persons -c "CHECKPOINT"
    measure "$WORK/ip-ours" dotnet "$DLL" import persons "$file"
    grep -q "$(python3 -c "print(f'{$rows:,}')") inserted" "$WORK/ip-ours.log" || { cat "$WORK/ip-ours.log" >&2; return 1; }
    measure "$WORK/ip-again" dotnet "$DLL" import persons "$file"
    grep -q "0 inserted, 0 updated" "$WORK/ip-again.log" || { cat "$WORK/ip-again.log" >&2; return 1; }
  done
  bench_row "import persons" "$rows" "$(median "$WORK/ip-ours.s")" "$(median "$WORK/ip-bound.s")" "$(sort -n "$WORK/ip-ours.rss" | tail -1)"
  bench_row "import persons (bound: COPY with the register's indexes)" "$rows" "$(median "$WORK/ip-ours.s")" "$(median "$WORK/ip-typed.s")" "$(sort -n "$WORK/ip-ours.rss" | tail -1)"
  bench_row "floor (PostgreSQL alone): the same COPY into a text table with only the primary key (id_number), vs without" "$rows" "$(median "$WORK/ip-keyed.s")" "$(median "$WORK/ip-bound.s")" "$(sort -n "$WORK/ip-keyed.rss" | tail -1)"
  bench_row "re-import persons, unchanged" "$rows" "$(median "$WORK/ip-again.s")" "$(median "$WORK/ip-bound.s")" "$(sort -n "$WORK/ip-again.rss" | tail -1)"
}
