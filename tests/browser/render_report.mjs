// Opens an HTML report in headless Chromium at a laptop and a phone width, takes a screenshot of each,
// and prints what was rendered as JSON: every chart's drawn size and how many of its shapes have a
// non-empty box. The ctest case (report_html_…) judges the figures.
// Usage: node render_report.mjs REPORT.html SCREENSHOT_PREFIX
import { pathToFileURL } from 'node:url';
import { launch } from './chromium.mjs';

const [, , file, shots] = process.argv;
const browser = await launch();
const result = {};
try {
  for (const [name, width] of [['laptop', 1280], ['phone', 390]]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) external.push(r.url()); });
    await page.goto(pathToFileURL(file).href);
    await page.screenshot({ path: `${shots}-${name}.png`, fullPage: true });
    result[name] = await page.evaluate(() => ({
      title: document.title,
      lang: document.documentElement.lang,
      empty: document.querySelector('[data-empty]') !== null,
      horizontalOverflow: document.documentElement.scrollWidth > window.innerWidth,
      charts: [...document.querySelectorAll('svg[data-chart]')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const shapes = [...svg.querySelectorAll('rect, polyline, circle')];
        const drawn = shapes.filter((s) => { const b = s.getBBox(); return b.width > 0 || b.height > 0; });
        return { id: svg.dataset.chart, width: Math.round(box.width), height: Math.round(box.height),
                 shapes: shapes.length, drawn: drawn.length, labels: svg.querySelectorAll('text').length,
                 smallestText: Math.min(...[...svg.querySelectorAll('text')].map((t) => t.getBoundingClientRect().height)) };
      }),
    }));
    result[name].external = external;
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
