// The instance's serial console in the page: xterm.js on the websocket
// GET /api/v1/instances/:id/serial-console, which carries the guest's
// output one way and the keys the other. Several pages may watch one
// instance; all see the same console and all may type.
import { Terminal } from '../vendor/xterm/xterm.mjs';
import { FitAddon } from '../vendor/xterm/addon-fit.mjs';

export function serialConsole(id) {
  const section = document.getElementById('serial-console');
  const button = section.querySelector('button[data-console]');
  const status = section.querySelector('.console-status');
  const screen = section.querySelector('.terminal');
  let running = false;
  let socket = null;
  let term = null;
  const fit = new FitAddon();

  function show(text) {
    status.textContent = text;
  }

  function refresh() {
    button.textContent = socket ? 'Disconnect' : 'Connect';
    button.disabled = !socket && !running;
    if (!socket) show(running ? 'Not connected.' : 'The serial console is open while the instance runs.');
  }

  function connect() {
    if (!term) {
      term = new Terminal({
        cursorBlink: true,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
        fontSize: 13,
        scrollback: 5000,
        theme: { background: '#16191f' },
      });
      term.loadAddon(fit);
      term.open(screen);
      term.onData((keys) => socket?.readyState === WebSocket.OPEN && socket.send(keys));
      // A serial line carries no window size: the terminal reflows on its
      // side only.
      new ResizeObserver(() => fit.fit()).observe(screen);
    }
    screen.hidden = false;
    fit.fit();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/v1/instances/${encodeURIComponent(id)}/serial-console`);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    show('Connecting…');
    refresh();
    ws.onopen = () => {
      show('Connected. Press Enter for a prompt.');
      term.focus();
    };
    ws.onmessage = (e) => term.write(new Uint8Array(e.data));
    ws.onclose = (e) => {
      if (socket !== ws) return;
      socket = null;
      refresh();
      show(e.reason || (e.code === 1006 ? 'The connection to kumod was lost.' : 'Disconnected.'));
    };
  }

  button.addEventListener('click', () => {
    if (socket) {
      socket.close(1000, 'the viewer left');
      return;
    }
    connect();
  });
  refresh();

  return {
    // setState follows the instance: the console opens only while it runs.
    setState(state) {
      running = state === 'running';
      refresh();
    },
  };
}
