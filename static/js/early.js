// Loaded before the page is drawn (not deferred): marks that JavaScript runs, so that the CSS can
// fold the phone menu behind its button (static/js/app.js opens it). Without JavaScript the menu
// stays open and the button hidden.
document.documentElement.classList.add("js");
