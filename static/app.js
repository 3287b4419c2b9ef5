// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// The language select does not submit itself on change: with the keyboard, the arrow keys
// change a closed select's value, and the page would reload in another language before the
// user reached the "Byt språk" button (WCAG 3.2.2 On Input).

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// A table wider than the screen scrolls inside its .table-scroll box. Keyboard users scroll it
// with the arrow keys once it has the focus, so a box that overflows becomes focusable, named
// by its table's caption (WCAG 2.1.1 Keyboard). One that fits takes no place in the tab order.
function markScrollableTables() {
  for (const box of document.querySelectorAll(".table-scroll")) {
    const overflows = box.scrollWidth > box.clientWidth;
    const caption = box.querySelector("caption");
    // The box says that it scrolls: an edge (style.css) and a line of text before it.
    const hint = box.previousElementSibling;
    const hasHint = hint && hint.classList.contains("scroll-hint");
    if (overflows && !hasHint && document.body.dataset.scrollHint) {
      const line = document.createElement("p");
      line.className = "scroll-hint";
      line.textContent = document.body.dataset.scrollHint;
      box.before(line);
    } else if (!overflows && hasHint) {
      hint.remove();
    }
    box.toggleAttribute("data-scrolls", overflows);
    if (overflows && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      if (caption) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", caption.textContent.trim());
      }
    } else if (!overflows && box.getAttribute("tabindex") === "0") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}

markScrollableTables();
window.addEventListener("resize", markScrollableTables);

// The page opens at what the user must read first: a form's error summary (the GOV.UK / DIGG
// pattern; its autofocus attribute does the same where supported), else the message of the
// change just made, at the top of the page.
function focusFeedback() {
  const target = document.querySelector("[data-error-summary]") || document.querySelector("[data-flashes]");
  if (target && !window.location.hash) {
    target.focus();
    target.scrollIntoView({ block: "start" });
  }
}

focusFeedback();

// A link of the error summary moves the focus to its field, not only the scroll position
// (the GOV.UK pattern): the user types into it at once.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-error-summary] a[href^='#']");
  const field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
  if (field) {
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  }
});

// The SAML response handed on to this site (coordination/accounts/providers): the form goes on
// by itself; without this file the person presses "Fortsätt".
// (The prototype's submit: the form's button is named "submit" and hides the method.)
for (const form of document.querySelectorAll("form[data-autosubmit]")) {
  HTMLFormElement.prototype.submit.call(form);
}
