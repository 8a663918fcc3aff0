// The 督办单 page: its print button (the page is printed as it stands; @media print hides the buttons).
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
