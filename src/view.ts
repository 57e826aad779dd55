/**
 * One terminal of a kernel, shown with xterm.js: the websocket to the Jupyter
 * server's relay (modwsgi_magics/server), which reaches the kernel's socket.
 *
 * Messages are JSON arrays, terminado's shapes (JupyterLab's own terminals):
 * from the kernel ["setup", {columns, rows}], ["stdout", text], ["reset"],
 * ["waiting", text]; to it ["stdin", keys], ["set_size", rows, columns].
 *
 * The width is the kernel's (TerminalMagics.columns): cells print as they
 * would with no panel, and the view scrolls sideways where it is narrower.
 * The height follows the view, so full-screen programs fit.
 */
import { ServerConnection } from '@jupyterlab/services';
import { URLExt } from '@jupyterlab/coreutils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { Terminal as Xterm, ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

/** Lines kept above the screen: more than the engine's transcript holds. */
const SCROLLBACK = 100000;
/** Retry delays (ms) while the kernel serves no terminals (yet). */
const RETRY = [500, 1000, 2000, 3000];

const LIGHT: ITheme = {
  foreground: '#000',
  background: '#fff',
  cursor: '#616161',
  cursorAccent: '#fff',
  selectionBackground: 'rgba(97, 97, 97, 0.3)'
};
const DARK: ITheme = {
  foreground: '#fff',
  background: '#000',
  cursor: '#fff',
  cursorAccent: '#000',
  selectionBackground: 'rgba(255, 255, 255, 0.3)'
};

export class TerminalView extends Widget {
  readonly name: string;
  private _xterm: Xterm;
  private _fit = new FitAddon();
  private _socket: WebSocket | null = null;
  private _kernelId: string | null = null;
  private _columns = 120;
  private _rows = 0;
  private _retries = 0;
  private _timer: number | null = null;
  private _opened = false;
  private _connecting = false;
  private _told = false; // said that the kernel has no terminals yet
  private _settings = ServerConnection.makeSettings();

  constructor(name: string) {
    super();
    this.name = name;
    this.addClass('jp-ModwsgiMagics-view');
    this.node.dataset.terminal = name;
    this._xterm = new Xterm({
      scrollback: SCROLLBACK,
      fontFamily: cssVariable('--jp-code-font-family') || 'monospace',
      fontSize: 13,
      cols: this._columns,
      rows: 10,
      theme: isLight() ? LIGHT : DARK,
      allowProposedApi: true
    });
    this._xterm.loadAddon(this._fit);
    this._xterm.onData(keys => this._send(['stdin', keys]));
    // For tests, benchmarks and debugging: the buffer as text, and xterm itself.
    (this.node as any).modwsgiText = () => this.text();
    (this.node as any).modwsgiTerminal = this._xterm;
  }

  /** Show terminal `name` of `kernelId` (null: no kernel). */
  connect(kernelId: string | null): void {
    if (kernelId === this._kernelId && this._socket) {
      return;
    }
    this._kernelId = kernelId;
    this._retries = 0;
    this._disconnect();
    if (kernelId) {
      void this._tryConnect();
    }
  }

  /** Connect now if waiting to retry (the kernel just started a terminal). */
  retryNow(): void {
    if (!this._socket && this._kernelId) {
      this._retries = 0;
      void this._tryConnect();
    }
  }

  /** Say something in the terminal, dimmed, on a line of its own. */
  note(text: string): void {
    this._xterm.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`);
  }

  text(): string {
    const buffer = this._xterm.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) {
      lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    }
    return lines.join('\n');
  }

  /** Follow JupyterLab's light or dark theme. */
  updateTheme(): void {
    this._xterm.options.theme = isLight() ? LIGHT : DARK;
  }

  focusTerminal(): void {
    this._xterm.focus();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._kernelId = null;
    this._disconnect();
    this._xterm.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._opened) {
      this._opened = true;
      this._xterm.open(this.node);
    }
    this._fitRows();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._fitRows();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitRows();
  }

  protected onActivateRequest(msg: Message): void {
    this._xterm.focus();
  }

  private async _tryConnect(): Promise<void> {
    const kernelId = this._kernelId;
    if (!kernelId || this._socket || this._connecting || this.isDisposed) {
      return;
    }
    this._connecting = true;
    try {
      const serves = await this._serves(kernelId);
      if (kernelId !== this._kernelId || this._socket || this.isDisposed) {
        return;
      }
      if (serves) {
        this._open(kernelId);
      } else {
        if (!this._told) {
          this._told = true;
          this._xterm.write(
            '\x1b[2m(no terminals in this kernel yet: they start with the first ' +
              '%%execute cell, after %load_ext modwsgi_magics)\x1b[0m\r\n'
          );
        }
        this._retryLater();
      }
    } finally {
      this._connecting = false;
    }
  }

  private async _serves(kernelId: string): Promise<boolean> {
    const url = URLExt.join(this._settings.baseUrl, 'modwsgi-magics/kernels', kernelId);
    try {
      const reply = await ServerConnection.makeRequest(url, {}, this._settings);
      return reply.ok && (await reply.json()).terminals === true;
    } catch {
      return false;
    }
  }

  private _open(kernelId: string): void {
    let url = URLExt.join(
      this._settings.wsUrl,
      'modwsgi-magics/kernels',
      kernelId,
      'terminals',
      this.name
    );
    if (this._settings.appendToken && this._settings.token) {
      url += `?token=${encodeURIComponent(this._settings.token)}`;
    }
    const socket = new WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      this._retries = 0;
      this._told = false;
    };
    // One message carries one or more lines, a JSON array each.
    socket.onmessage = event => {
      for (const line of String(event.data).split('\n')) {
        if (line) {
          this._receive(JSON.parse(line));
        }
      }
    };
    socket.onclose = () => {
      if (this._socket === socket) {
        this._socket = null;
        this._retryLater();
      }
    };
  }

  private _receive(message: any[]): void {
    switch (message[0]) {
      case 'setup':
        this._xterm.reset();
        this._columns = message[1].columns || this._columns;
        this._rows = 0;
        this._fitRows();
        break;
      case 'stdout':
        this._xterm.write(message[1]);
        break;
      case 'reset':
        this._xterm.reset();
        break;
      case 'waiting':
        this._xterm.reset();
        this._xterm.write(`\x1b[2m(${message[1]})\x1b[0m\r\n`);
        break;
    }
  }

  private _send(message: any[]): void {
    if (this._socket && this._socket.readyState === WebSocket.OPEN) {
      this._socket.send(JSON.stringify(message));
    }
  }

  private _retryLater(): void {
    if (this._timer !== null || !this._kernelId || this.isDisposed) {
      return;
    }
    const delay = RETRY[Math.min(this._retries, RETRY.length - 1)];
    this._retries++;
    this._timer = window.setTimeout(() => {
      this._timer = null;
      void this._tryConnect();
    }, delay);
  }

  private _disconnect(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
    const socket = this._socket;
    this._socket = null;
    socket?.close();
  }

  /** As many rows as fit; the columns are the kernel's. */
  private _fitRows(): void {
    if (!this._opened || !this.isVisible) {
      return;
    }
    const proposed = this._fit.proposeDimensions();
    if (!proposed || !proposed.rows || isNaN(proposed.rows)) {
      return;
    }
    const rows = Math.max(2, proposed.rows);
    if (rows !== this._xterm.rows || this._columns !== this._xterm.cols) {
      this._xterm.resize(this._columns, rows);
    }
    if (rows !== this._rows) {
      this._rows = rows;
      this._send(['set_size', rows, this._columns]);
    }
  }
}

function cssVariable(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

function isLight(): boolean {
  return document.body.dataset.jpThemeLight !== 'false';
}
