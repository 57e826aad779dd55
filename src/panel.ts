/**
 * The terminals panel of one notebook: terminal 1 on top of terminal 2, 60/40,
 * as the original workshop platform's split layout. It follows the notebook's
 * kernel: a restart or a new kernel brings the fresh terminals.
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { terminalIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { SplitPanel } from '@lumino/widgets';
import { TerminalView } from './view';

/** The terminals' names, top to bottom, and their share of the height. */
const TERMINALS: [string, number][] = [
  ['1', 0.6],
  ['2', 0.4]
];

export class TerminalsPanel extends SplitPanel {
  readonly notebook: NotebookPanel;
  readonly views: TerminalView[];

  constructor(notebook: NotebookPanel) {
    super({ orientation: 'vertical', spacing: 4 });
    this.notebook = notebook;
    this.id = `modwsgi-magics-terminals-${notebook.id}`;
    this.addClass('jp-ModwsgiMagics-panel');
    this.title.icon = terminalIcon;
    this.title.closable = true;
    this.views = TERMINALS.map(([name]) => {
      const view = new TerminalView(name);
      this.addWidget(view);
      return view;
    });
    this.setRelativeSizes(TERMINALS.map(([, share]) => share));
    this._updateTitle();
    notebook.context.pathChanged.connect(this._updateTitle, this);
    const session = notebook.sessionContext;
    session.kernelChanged.connect(this._follow, this);
    session.statusChanged.connect(this._onStatus, this);
    void session.ready.then(() => this._follow());
    notebook.disposed.connect(() => this.dispose());
  }

  get notebookPath(): string {
    return this.notebook.context.path;
  }

  /** JupyterLab's theme changed: so do the terminals. */
  updateTheme(): void {
    this.views.forEach(view => view.updateTheme());
  }

  /** The kernel just started a terminal: connect the views that wait. */
  retryNow(): void {
    this.views.forEach(view => view.retryNow());
  }

  /** Closed is gone: its connections end; opening again makes a fresh panel. */
  protected onCloseRequest(msg: Message): void {
    super.onCloseRequest(msg);
    this.dispose();
  }

  private _follow(): void {
    if (this.isDisposed) {
      return;
    }
    const kernel = this.notebook.sessionContext.session?.kernel;
    this.views.forEach(view => view.connect(kernel ? kernel.id : null));
  }

  private _onStatus(session: ISessionContext, status: string): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this.views.forEach(view =>
        view.note(
          'The kernel restarts: its terminals ended. Fresh ones start with the next cell that uses them.'
        )
      );
    }
  }

  private _updateTitle(): void {
    const name = this.notebook.context.localPath.split('/').pop();
    this.title.label = `Terminals: ${name}`;
    this.title.caption = `Terminals 1 (top) and 2 of the kernel of ${this.notebook.context.path}`;
  }
}
