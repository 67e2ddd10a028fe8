#!/usr/bin/env bash
# A ps/worker cluster on this machine: 1 ps and 2 workers of train_flowers.py on
# free loopback ports, each logging to its own file, then an evaluation of what
# the chief saved. Ctrl-C, or any task failing, ends them all.
#
#   scripts/local_cluster.sh [--sync_replicas] [other train_flowers.py flags]
#
# Environment: PYTHON (default .venv/bin/python), WORK (default cluster_run),
# IMAGE_SIZE (default 128), NUM_EPOCHS (default 2), BATCH_SIZE (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
WORK=${WORK:-cluster_run}
IMAGE_SIZE=${IMAGE_SIZE:-128}
NUM_EPOCHS=${NUM_EPOCHS:-2}
BATCH_SIZE=${BATCH_SIZE:-10}
RECORDS=$WORK/tfrecords
LOG_DIR=$WORK/log

# The demo's photos (the drawn set unless ./flower_photos exists), converted once.
if ! ls "$RECORDS"/flowers_train_*.tfrecord >/dev/null 2>&1; then
  "$PYTHON" - "$WORK" <<'PY'
import sys
import demo
args = demo.build_parser().parse_args(['--work_dir', sys.argv[1]])
demo.prepare_records(args)
PY
fi
rm -rf "$LOG_DIR" "$WORK/log_eval"
mkdir -p "$WORK"

# Three ports the kernel hands out on 127.0.0.1 right now.
read -r PS_PORT W0_PORT W1_PORT < <("$PYTHON" -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

FLAGS=(--ps_hosts "127.0.0.1:$PS_PORT"
       --worker_hosts "127.0.0.1:$W0_PORT,127.0.0.1:$W1_PORT"
       --dataset_dir "$RECORDS" --log_dir "$LOG_DIR" --image_size "$IMAGE_SIZE"
       --num_epochs "$NUM_EPOCHS" --batch_size "$BATCH_SIZE" --from_scratch
       --batch_norm_decay 0.9 --initial_learning_rate 0.001 "$@")

declare -A PIDS=()
stop_all() {
  for name in "${!PIDS[@]}"; do kill "${PIDS[$name]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'echo "Interrupted: stopping every task." >&2; stop_all; exit 130' INT TERM

start() {  # name job index
  "$PYTHON" train_flowers.py "${FLAGS[@]}" --job_name "$2" --task_index "$3" \
    >"$WORK/$1.log" 2>&1 &
  PIDS[$1]=$!
  echo "started $1 (pid ${PIDS[$1]}), log: $WORK/$1.log"
}
start ps ps 0
start worker0 worker 0
start worker1 worker 1

# Wait for all three; the first one to fail ends the others.
status=0
while [ ${#PIDS[@]} -gt 0 ]; do
  set +e
  wait -n
  set -e
  for name in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      set +e; wait "${PIDS[$name]}"; code=$?; set -e
      unset "PIDS[$name]"
      if [ "$code" -ne 0 ]; then
        echo "$name failed (exit $code); its log ends:" >&2
        tail -n 5 "$WORK/$name.log" >&2
        status=1
        stop_all
        PIDS=()
      else
        echo "$name finished"
      fi
    fi
  done
done
trap - INT TERM
[ "$status" -eq 0 ] || exit "$status"

echo "Evaluating the chief's checkpoint in $LOG_DIR"
"$PYTHON" eval_flowers.py --dataset_dir "$RECORDS" --log_dir "$LOG_DIR" \
  --log_eval "$WORK/log_eval" --image_size "$IMAGE_SIZE" --num_epochs 1 2>"$WORK/eval.log"
