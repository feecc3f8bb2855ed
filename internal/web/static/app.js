// Replaced by the bundle of js/src/web/app.ts (npm run build:web in js/).
document.getElementById("status").textContent = "the app is not built yet";
