# Sourced by the scripts that run tests on an oversubscribed machine
# (contract clause X4): flake-hunt.sh and under-load.sh.
#
#   start_busy_load N   starts N processes that spin on the CPU
#   stop_busy_load      ends them (call it from the caller's EXIT trap)
#
# Each spinner also ends by itself once the shell that started it is gone
# (a ctest timeout kills that shell with SIGKILL, which runs no trap).
busy_load_pids=()

start_busy_load() {
  local parent=$$ i
  for ((i = 0; i < $1; i++)); do
    (while kill -0 "$parent" 2>/dev/null; do :; done) &
    busy_load_pids+=($!)
  done
}

stop_busy_load() {
  ((${#busy_load_pids[@]} > 0)) || return 0
  kill "${busy_load_pids[@]}" 2>/dev/null
  wait "${busy_load_pids[@]}" 2>/dev/null
  busy_load_pids=()
}
