# Mail delivery (QUALITY.md): 1,000 messages to a local SMTP server over one reused connection against
# reconnecting for every message, in the same run (target ≥ 100 msg/s). The bench console's verb `mail`
# (tools/Lingyuan.Jobs.Bench, on the app's configuration and services) runs both passes through the real
# outbox delivery path; this workload gives it a private smtp4dev and a fresh database. One run (not
# --repeat): the verb already runs its bound beside it.
bench_mail() {
  local count http smtp line
  count=$(nominal 1000)
  [ "$count" -ge 10 ] || count=10
  read -r http smtp < <(python3 -c 'import socket
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
print(free(), free())')
  rm -f "$WORK"/mail*
  smtp_start "$http" "$smtp" "$WORK/smtp4dev.pid" "$WORK/smtp4dev.log"
  fresh_db bench_mail
  Smtp__Host=127.0.0.1 Smtp__Port=$smtp measure "$WORK/mail" dotnet "$TOOL" mail --count "$count"
  smtp_stop "$WORK/smtp4dev.pid"
  # "| mail delivery (…) | N | 1.234 s | 5.678 s | …": our time and the bound's in columns 4 and 5.
  line=$(grep '^| mail delivery' "$WORK/mail.log") || { cat "$WORK/mail.log" >&2; return 1; }
  local ours bound rss
  ours=$(awk -F'|' '{ sub(/ s */, "", $4); print $4 + 0 }' <<<"$line")
  bound=$(awk -F'|' '{ sub(/ s */, "", $5); print $5 + 0 }' <<<"$line")
  rss=$(sort -n "$WORK/mail.rss" | tail -1)
  bench_row "mail delivery, one connection vs reconnect per message (msg/s)" "$count" "$ours" "$bound" "$rss"
  bench_row "mail delivery, reconnect per message (the bound alone)" "$count" "$bound" 0 "$rss"
  psql_bench postgres -c "DROP DATABASE bench_mail WITH (FORCE)" >/dev/null
}
