#!/usr/bin/env bash
# kabar against Matrix Synapse and the ceiling (a bare relay, bare SQLite): the same workload,
# on this machine, in ONE run, one after the other. What `make bench-peer` runs.
#
#   bench/peers.sh              # full sizes, ~11-30 min by machine (each Synapse round 3-10 min)
#   QUICK=1 bench/peers.sh      # smaller sizes for all steps, ~5-6 min
#
# Raw JSON, logs and the comparison (compare.md) go to bench/results/<date>[-quick][-N]/.
# Last, bench/interleaved.py runs kabar and a fresh Synapse at the same time, in alternating
# bursts, so that each ratio compares bursts seconds apart (the machine's drift cancels);
# its table is appended to compare.md.
# Env: KABAR_PEERS_DIR   the peer benchmarks (default: <repo>/../shared/peers, or next to
#                        the main checkout when <repo> is a git worktree)
#      RESULTS           output directory (default as above)
#      STEPS             which parts to run (default "synapse kabar ceiling interleaved")
#      KABAR_BENCH_ARGS  extra options for bench/messaging.py (e.g. --database-url ...)
#      KABAR_ROUNDS      how many times kabar runs, each on a fresh server (default 3; the
#                        table quotes the median of each metric and each round's targets)
#      SYNAPSE_ROUNDS    how many times Synapse runs, each on a fresh server (default 2);
#                        the rounds alternate, kabar first (k s k s k), so that both sample
#                        the machine's speed, which drifts by up to 1.6x within minutes here
#      PY                kabar's python (default <repo>/.venv/bin/python)
# Synapse's own env overrides (VENV, DATA, PORT, SYNAPSE_VERSION) pass through to its scripts.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
# Default: ../shared/peers next to the repository; in a git worktree, next to the main checkout.
if [ -z "${KABAR_PEERS_DIR:-}" ]; then
  KABAR_PEERS_DIR=$REPO/../shared/peers
  if [ ! -d "$KABAR_PEERS_DIR" ]; then
    common=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    [ -n "$common" ] && KABAR_PEERS_DIR=$(dirname "$common")/../shared/peers
  fi
fi
PEERS=$(cd "$KABAR_PEERS_DIR" && pwd) || { echo "no peer benchmarks at $KABAR_PEERS_DIR: set KABAR_PEERS_DIR" >&2; exit 1; }
PY=${PY:-$REPO/.venv/bin/python}
STEPS=${STEPS:-synapse kabar ceiling interleaved}
ROUNDS=${KABAR_ROUNDS:-3}
SYNAPSE_ROUNDS=${SYNAPSE_ROUNDS:-2}
SYNAPSE_DATA=${DATA:-/tmp/peers/synapse-data}
SYNAPSE_VENV=${VENV:-/tmp/peers/synapse-venv}

SIZES=() SQLITE_ARGS=() INTERLEAVED_SIZES=() SUFFIX=""
if [ "${QUICK:-0}" = 1 ]; then
  SIZES=(--messages 300 --fanout-msgs 50 --per-sender 30)
  INTERLEAVED_SIZES=(--rounds 3 --kabar-seq 300 --synapse-seq 20 --kabar-per-sender 20 --synapse-per-sender 3)
  SQLITE_ARGS=(--seconds 1)
  SUFFIX=-quick
fi
OUT=${RESULTS:-$REPO/bench/results/$(date +%F)$SUFFIX}
if [ -z "${RESULTS:-}" ] && [ -e "$OUT" ]; then
  n=2; while [ -e "$OUT-$n" ]; do n=$((n + 1)); done; OUT=$OUT-$n
fi
mkdir -p "$OUT"
[ -x "$PY" ] || { echo "no $PY: run 'make install' first" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }
# Other work on the box skews every number: note the load and the busiest other processes.
# The speed probe times a fixed piece of pure Python (bench/speed.py): the same work, so a
# change in its time is the machine's speed changing between steps, not the servers.
load() {
  { echo "$(date +%T) $1: loadavg $(cut -d' ' -f1-3 /proc/loadavg)," \
      "speed probe $("$PY" "$REPO/bench/speed.py") ms"
    ps -eo pcpu=,comm= --sort=-pcpu | head -3 | sed 's/^/    /'; } >>"$OUT/load.txt"
}
has() { [[ " $STEPS " == *" $1 "* ]]; }

# The machine and the exact inputs, next to the results.
"$PY" - "$OUT/meta.json" "$REPO" "$PEERS" "${QUICK:-0}" "$STEPS" "${SIZES[@]}" <<'PY'
import json, os, platform, subprocess, sys, time
out, repo, peers, quick, steps, *sizes = sys.argv[1:]
git = lambda *a: subprocess.run(["git", "-C", repo, *a], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), None)
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
def read(path):  # how idle vCPUs sleep moves a ping-pong's round trip (docs/performance.md)
    try:
        return open(path).read().strip()
    except OSError:
        return None
idle = {"driver": read("/sys/devices/system/cpu/cpuidle/current_driver"),
        "guest_halt_poll_ns": read("/sys/module/haltpoll/parameters/guest_halt_poll_ns")}
json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": quick == "1", "steps": steps.split(),
           "sizes": sizes, "cpu": cpu, "cpus": os.cpu_count(), "mem_gib": round(mem / 2**20, 1),
           "kernel": platform.release(), "python": platform.python_version(),
           "kabar_commit": git("rev-parse", "HEAD"), "kabar_dirty": bool(git("status", "--porcelain", "src")),
           "peers_dir": peers, "loadavg_before": os.getloadavg(), "cpu_idle": idle},
          open(out, "w"), indent=1)
PY
log "results in $OUT"

# Only what this script started is stopped, and only by its PID file.
synapse_started=
cleanup() { if [ -n "$synapse_started" ]; then DATA=$SYNAPSE_DATA "$PEERS/synapse/stop.sh" >&2 || true; fi; }
trap cleanup EXIT

synapse_up() {  # a fresh Synapse (new SQLite), as its README says: setup.sh, start.sh
  "$PEERS/synapse/setup.sh" >&2
  synapse_started=1
  "$PEERS/synapse/start.sh" >&2
}

synapse_down() {
  DATA=$SYNAPSE_DATA "$PEERS/synapse/stop.sh" >&2
  synapse_started=
}

synapse_round() {  # $1: the output name (synapse or synapse-N)
  load "before synapse ($1)"
  log "Synapse ($1): setup (fresh SQLite), start, bench, stop"
  synapse_up
  "$SYNAPSE_VENV/bin/python" "$PEERS/synapse/bench.py" --config "$SYNAPSE_DATA/bench.yaml" \
    --pid-file "$SYNAPSE_DATA/synapse.pid" "${SIZES[@]}" >"$OUT/$1.json" 2> >(tee "$OUT/$1.log" >&2)
  synapse_down
}

kabar_round() {  # $1: the output name (kabar or kabar-N)
  load "before kabar ($1)"
  log "kabar ($1): fresh SQLite, server spawned by bench/messaging.py"
  # shellcheck disable=SC2086  # KABAR_BENCH_ARGS is a list of options
  "$PY" "$REPO/bench/messaging.py" --spawn "${SIZES[@]}" ${KABAR_BENCH_ARGS:-} \
    >"$OUT/$1.json" 2> >(tee "$OUT/$1.log" >&2)
}

# Single runs on a small VM vary by ±15 %, and the machine's speed drifts by more over
# minutes: each server runs several times on a fresh database, the rounds alternating
# (kabar, Synapse, kabar, Synapse, kabar), and compare.py takes the median of each metric.
k_rounds=0 s_rounds=0
has kabar && k_rounds=$ROUNDS
has synapse && s_rounds=$SYNAPSE_ROUNDS
for i in $(seq "$(( k_rounds > s_rounds ? k_rounds : s_rounds ))"); do
  if [ "$i" -le "$k_rounds" ]; then
    name=kabar; [ "$k_rounds" -gt 1 ] && name=kabar-$i
    kabar_round "$name"
  fi
  if [ "$i" -le "$s_rounds" ]; then
    name=synapse; [ "$s_rounds" -gt 1 ] && name=synapse-$i
    synapse_round "$name"
  fi
done

if has ceiling; then
  load "before ceiling"
  log "ceiling: bare relay (aiohttp client), then SQLite commit rates"
  "$PEERS/ceiling/run.sh" --client aiohttp "${SIZES[@]}" \
    >"$OUT/ceiling-relay.json" 2> >(tee "$OUT/ceiling-relay.log" >&2)
  # kabar's python, so the SQLite library measured is the one kabar runs on.
  "$PY" "$PEERS/ceiling/sqlite_ceiling.py" "${SQLITE_ARGS[@]}" \
    >"$OUT/ceiling-sqlite.json" 2> >(tee "$OUT/ceiling-sqlite.log" >&2)
fi

if has interleaved; then
  load "before interleaved"
  log "interleaved: kabar and a fresh Synapse up at once, bursts alternating (bench/interleaved.py)"
  synapse_up
  "$PY" "$REPO/bench/interleaved.py" --peers "$PEERS" --synapse-base "http://127.0.0.1:${PORT:-18008}" \
    --synapse-config "$SYNAPSE_DATA/bench.yaml" --synapse-pid-file "$SYNAPSE_DATA/synapse.pid" \
    --markdown "$OUT/interleaved.md" "${INTERLEAVED_SIZES[@]}" \
    >"$OUT/interleaved.json" 2> >(tee "$OUT/interleaved.log" >&2)
  synapse_down
fi

load "end"
sleep 0.5  # let the tee'd logs flush
"$PY" "$REPO/bench/compare.py" "$OUT" | tee "$OUT/compare.md"
if [ -f "$OUT/interleaved.md" ]; then
  echo | tee -a "$OUT/compare.md"
  tee -a "$OUT/compare.md" <"$OUT/interleaved.md"
fi
