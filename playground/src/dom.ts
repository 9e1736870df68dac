/** A tiny element builder: enough DOM help that the views read as markup, and no framework. */

type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(key.replace(/^on/, ""), value);
    else if (key === "class") element.className = String(value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Set text only when it changed: streaming updates then touch the DOM as little as possible. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setClass(element: Element, name: string, on: boolean): void {
  if (element.classList.contains(name) !== on) element.classList.toggle(name, on);
}

/** The `<option>`s of a select, rebuilt only when the list changed; keeps the selection if it can. */
export function setOptions(select: HTMLSelectElement, options: ReadonlyArray<{ value: string; label: string }>): void {
  const same =
    select.options.length === options.length && options.every((option, i) => select.options[i]?.value === option.value);
  if (same) return;
  const previous = select.value;
  select.replaceChildren(...options.map((option) => h("option", { value: option.value }, option.label)));
  if (options.some((option) => option.value === previous)) select.value = previous;
}

/**
 * A table body of exactly `size` rows of `columns` cells, reused forever: streaming data changes
 * text, never the number of rows, so nothing below it moves.
 */
export class FixedRows {
  readonly body: HTMLTableSectionElement;
  readonly rows: HTMLTableRowElement[] = [];

  constructor(size: number, columns: number) {
    this.body = document.createElement("tbody");
    for (let r = 0; r < size; r++) {
      const row = document.createElement("tr");
      for (let c = 0; c < columns; c++) row.appendChild(document.createElement("td"));
      this.rows.push(row);
      this.body.appendChild(row);
    }
  }

  /** Fill rows from `items`; rows past the end are marked `empty` (hidden, still taking their height). */
  fill<T>(items: readonly T[], write: (cells: HTMLCollectionOf<HTMLTableCellElement>, item: T, row: HTMLTableRowElement) => void): void {
    this.rows.forEach((row, i) => {
      const item = items[i];
      setClass(row, "empty", item === undefined);
      if (item !== undefined) write(row.cells, item, row);
    });
  }
}
