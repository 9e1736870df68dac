/**
 * Which colour means "up". Western screens show a rising price in green; traders of Chinese
 * futures (the featured instruments) read red as up and green as down. The choice is a setting
 * on the page, remembered in this browser (localStorage), and applied by swapping `--up` and
 * `--down` on the root element; the chart, which draws on canvases, is told separately.
 */
export type ColourScheme = "green-up" | "red-up";

const KEY = "tradewire.playground.colours";

export class ColourSetting {
  readonly #select: HTMLSelectElement;
  readonly #onChange: (scheme: ColourScheme) => void;

  constructor(select: HTMLSelectElement, onChange: (scheme: ColourScheme) => void) {
    this.#select = select;
    this.#onChange = onChange;
    select.value = remembered();
    select.addEventListener("change", () => {
      try {
        localStorage.setItem(KEY, this.value);
      } catch {
        // storage off (private mode, a sandbox): the choice lasts for this page only
      }
      this.apply();
    });
  }

  get value(): ColourScheme {
    return this.#select.value === "red-up" ? "red-up" : "green-up";
  }

  /** Put the chosen scheme on the page. */
  apply(): void {
    document.documentElement.dataset["colours"] = this.value;
    this.#onChange(this.value);
  }
}

function remembered(): ColourScheme {
  try {
    return localStorage.getItem(KEY) === "red-up" ? "red-up" : "green-up";
  } catch {
    return "green-up";
  }
}
