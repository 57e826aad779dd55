/**
 * modwsgi-magics: the terminals of a notebook's kernel, live, beside the notebook.
 *
 * The kernel cues the panel through comm messages on target
 * `modwsgi_magics.panel` (never cell outputs): `started` when a terminal
 * starts (the panel opens by itself the first time), `open` for
 * `%terminal open`, `open-url` for `%terminal open-url URL`.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IFrame,
  IThemeManager,
  MainAreaWidget,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { linkIcon, terminalIcon } from '@jupyterlab/ui-components';
import { highlightShellCells } from './highlight';
import { TerminalsPanel } from './panel';

const COMM_TARGET = 'modwsgi_magics.panel';

namespace CommandIDs {
  export const open = 'modwsgi-magics:open-terminals';
  export const openUrl = 'modwsgi-magics:open-url';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'modwsgi-magics:plugin',
  description: "The notebook kernel's two terminals, live, beside the notebook",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer, IThemeManager],
  activate
};

function activate(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  themes: IThemeManager | null
): void {
  const panels = new WidgetTracker<TerminalsPanel>({ namespace: 'modwsgi-magics' });
  const autoOpened = new Set<string>();
  themes?.themeChanged.connect(() =>
    requestAnimationFrame(() => panels.forEach(panel => panel.updateTheme()))
  );

  const panelOf = (notebook: NotebookPanel) =>
    panels.find(panel => panel.notebook === notebook);

  const open = (notebook: NotebookPanel, activate: boolean): TerminalsPanel => {
    let panel = panelOf(notebook);
    if (!panel) {
      panel = new TerminalsPanel(notebook);
      app.shell.add(panel, 'main', { mode: 'split-right', ref: notebook.id, activate });
      void panels.add(panel);
    } else if (activate) {
      app.shell.activateById(panel.id);
    }
    return panel;
  };

  const notebookAt = async (path: string | undefined): Promise<NotebookPanel | null> => {
    if (!path) {
      return notebooks.currentWidget;
    }
    const found = notebooks.find(nb => nb.context.path === path);
    if (found) {
      return found;
    }
    // While the layout is restored, the notebook may come after its panel.
    return new Promise(resolve => {
      const added = (_: unknown, nb: NotebookPanel) => {
        if (nb.context.path === path) {
          notebooks.widgetAdded.disconnect(added);
          resolve(nb);
        }
      };
      notebooks.widgetAdded.connect(added);
      window.setTimeout(() => {
        notebooks.widgetAdded.disconnect(added);
        resolve(null);
      }, 30000);
    });
  };

  app.commands.addCommand(CommandIDs.open, {
    label: 'Show Terminals of the Notebook Kernel',
    caption: 'Terminals 1 and 2 of the notebook kernel (modwsgi_magics)',
    icon: terminalIcon,
    execute: async args => {
      const notebook = await notebookAt(args.path as string | undefined);
      if (!notebook) {
        return null;
      }
      return open(notebook, args.activate !== false);
    }
  });

  app.commands.addCommand(CommandIDs.openUrl, {
    label: args => `Open ${args.title || 'a Local Web App'} in a Tab`,
    icon: linkIcon,
    execute: args => {
      const port = Number(args.port);
      const path = String(args.path || '/');
      const url = URLExt.join(PageConfig.getBaseUrl(), 'proxy', String(port)) + path;
      const frame = new IFrame({
        sandbox: ['allow-scripts', 'allow-forms', 'allow-same-origin', 'allow-popups']
      });
      frame.url = url;
      const widget = new MainAreaWidget({ content: frame });
      widget.id = `modwsgi-magics-app-${port}-${Date.now()}`;
      widget.title.label = `localhost:${port}${path}`;
      widget.title.icon = linkIcon;
      widget.title.closable = true;
      widget.addClass('jp-ModwsgiMagics-app');
      app.shell.add(widget, 'main', { mode: 'tab-after' });
      return widget;
    }
  });

  palette?.addItem({ command: CommandIDs.open, category: 'Notebook Operations' });
  restorer?.restore(panels, {
    command: CommandIDs.open,
    args: panel => ({ path: panel.notebookPath, activate: false }),
    name: panel => panel.notebookPath
  });

  const onComm = (notebook: NotebookPanel, data: any) => {
    switch (data?.event) {
      case 'started':
        if (!autoOpened.has(notebook.id) && !panelOf(notebook)) {
          autoOpened.add(notebook.id);
          open(notebook, false);
        }
        panelOf(notebook)?.retryNow();
        break;
      case 'open':
        open(notebook, true).retryNow();
        break;
      case 'open-url':
        void app.commands.execute(CommandIDs.openUrl, { port: data.port, path: data.path });
        break;
    }
  };

  const listen = (notebook: NotebookPanel, kernel: Kernel.IKernelConnection | null) => {
    kernel?.registerCommTarget(
      COMM_TARGET,
      (comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg) => {
        onComm(notebook, msg.content.data);
      }
    );
  };

  // A link to `#modwsgi-magics-open-url=URL` in a notebook (chapter 4's "open
  // the app in a tab") opens URL as `%terminal open-url URL` does.
  document.body.addEventListener(
    'click',
    event => {
      const anchor = (event.target as HTMLElement | null)?.closest?.('a');
      const match = OPEN_URL_LINK.exec(anchor?.getAttribute('href') ?? '');
      const target = match ? localTarget(match[1]) : null;
      if (target) {
        event.preventDefault();
        event.stopPropagation();
        void app.commands.execute(CommandIDs.openUrl, target);
      }
    },
    true
  );

  notebooks.widgetAdded.connect((_, notebook) => {
    const session = notebook.sessionContext;
    session.kernelChanged.connect((_, change) => listen(notebook, change.newValue));
    listen(notebook, session.session?.kernel ?? null);
    highlightShellCells(notebook);
    const button = new ToolbarButton({
      icon: terminalIcon,
      tooltip: 'Show the terminals of this notebook kernel (modwsgi_magics)',
      className: 'jp-ModwsgiMagics-toolbarButton',
      onClick: () => void open(notebook, true)
    });
    notebook.toolbar.insertAfter('cellType', 'modwsgiMagicsTerminals', button);
  });
}

/** A link that opens a local web app in a tab, and what it names. */
const OPEN_URL_LINK = /^#modwsgi-magics-open-url=(.+)$/;

/** The port and path of a URL of this machine (jupyter-server-proxy reaches no other). */
function localTarget(text: string): { port: number; path: string } | null {
  try {
    const url = new URL(/^https?:\/\//.test(text) ? text : `http://${text}`);
    if (!['localhost', '127.0.0.1', '[::1]', '0.0.0.0'].includes(url.hostname)) {
      return null;
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return { port, path: `${url.pathname}${url.search}` };
  } catch {
    return null;
  }
}

export default plugin;
