#!/usr/bin/env bash
# Start a virtual screen (Xvfb) and virtual sound devices (PulseAudio null sinks) for
# machines with no display, sound card or camera: CI and headless servers.
#   spk      the app's speaker; tests record what was heard from spk.monitor
#   micfeed  tests play speech into it; its monitor is the app's microphone "vmic"
# Source it (`. scripts/virtual-devices.sh start`) so DISPLAY and XDG_RUNTIME_DIR stay set.
# PulseAudio must be up BEFORE anything imports sounddevice (PortAudio scans at import).
set -u
action=${1:-start}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/dhuman-xdg-runtime}
display_num=${DHUMAN_XVFB_DISPLAY:-99}

if [ "$action" = stop ]; then
  pulseaudio --kill 2>/dev/null || true
  # a stale pid file (the screen already gone) must not fail a caller running with set -e
  if [ -f "/tmp/dhuman-xvfb$display_num.pid" ]; then
    kill "$(cat "/tmp/dhuman-xvfb$display_num.pid")" 2>/dev/null || true
  fi
  rm -f "/tmp/dhuman-xvfb$display_num.pid"
  return 0 2>/dev/null || exit 0
fi

if [ -z "${DISPLAY:-}" ] || ! xdpyinfo >/dev/null 2>&1; then
  export DISPLAY=":$display_num"
  if ! xdpyinfo >/dev/null 2>&1; then
    Xvfb "$DISPLAY" -screen 0 1280x1024x24 -nolisten tcp >"/tmp/dhuman-xvfb$display_num.log" 2>&1 &
    echo $! >"/tmp/dhuman-xvfb$display_num.pid"
    for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  fi
fi
xdpyinfo >/dev/null 2>&1 && echo "virtual-devices: screen $DISPLAY" || echo "virtual-devices: no screen (is xvfb installed?)" >&2

mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
if command -v pulseaudio >/dev/null && ! pactl info >/dev/null 2>&1; then
  pulseaudio --daemonize=yes -n --exit-idle-time=-1 --disallow-exit \
    --log-target=file:/tmp/dhuman-pulse.log \
    -L module-native-protocol-unix \
    -L "module-null-sink sink_name=spk sink_properties=device.description=Speaker rate=48000 channels=2" \
    -L "module-null-sink sink_name=micfeed sink_properties=device.description=MicFeed rate=48000 channels=1" \
    -L "module-remap-source source_name=vmic master=micfeed.monitor source_properties=device.description=VirtualMic" \
    -L module-always-sink
  for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl set-default-sink spk && pactl set-default-source vmic
fi
pactl info >/dev/null 2>&1 && echo "virtual-devices: sound $(pactl get-default-sink) / $(pactl get-default-source)" \
  || echo "virtual-devices: no sound server (is pulseaudio installed?)" >&2
return 0 2>/dev/null || exit 0
