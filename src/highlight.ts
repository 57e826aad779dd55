/**
 * `%%execute*` cell bodies are shell, not Python: such a cell's editor gets
 * the shell mode, and gives it back when the magic goes.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

const SHELL = 'text/x-sh';
const EXECUTE_MAGIC = /^\s*%%execute[-_\w]*/;

function apply(notebook: NotebookPanel): void {
  if (notebook.isDisposed) {
    return;
  }
  const fallback = notebook.content.codeMimetype;
  notebook.content.widgets.forEach((cell: Cell) => {
    if (cell.model.type !== 'code') {
      return;
    }
    const shell = EXECUTE_MAGIC.test(cell.model.sharedModel.getSource());
    const wanted = shell ? SHELL : cell.model.mimeType === SHELL ? fallback : null;
    if (wanted && cell.model.mimeType !== wanted) {
      cell.model.mimeType = wanted;
    }
  });
  notebook.node.dataset.modwsgiMagicsShell = String(
    notebook.content.widgets.filter(cell => cell.model.mimeType === SHELL).length
  );
}

export function highlightShellCells(notebook: NotebookPanel): void {
  let pending = false;
  const later = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        apply(notebook);
      });
    }
  };
  notebook.content.modelContentChanged.connect(later);
  notebook.sessionContext.kernelChanged.connect(later);
  notebook.sessionContext.statusChanged.connect(later);
  void notebook.context.ready.then(() => {
    notebook.context.model.metadataChanged.connect(later);
    later();
  });
}
