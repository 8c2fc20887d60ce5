// Screenshots of each view for the README: `node dist/test/viz/shoot.js OUT_DIR [dir…]`
// (default: the test fixtures). Each view is opened from its URL hash as a user would.
import * as path from 'path';
import { startVizServer } from '../../lib/viz';
import { launch } from './browser';
import { makeFixtures } from './fixtures';

export async function shoot(outDir: string, dirs: string[], views: Record<string, string>): Promise<string[]> {
  const server = await startVizServer({ dirs });
  const browser = await launch();
  const written: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    for (const [name, hash] of Object.entries(views)) {
      await page.goto(`${server.url}#${hash}`);
      await page.waitForSelector('body[data-ready]');
      await page.waitForTimeout(200);
      const file = path.join(outDir, `${name}.png`);
      await page.screenshot({ path: file });
      written.push(file);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return written;
}

if (require.main === module) {
  const [outDir, ...rest] = process.argv.slice(2);
  const f = rest.length ? null : makeFixtures();
  const dirs = rest.length ? rest : [path.join(f!.root, 'data'), path.join(f!.root, 'checkpoints')];
  const views = JSON.parse(process.env.VIEWS ?? 'null') ?? {
    'viz-datasets': 'view=datasets',
    'viz-predictions': 'view=predictions',
    'viz-curves': 'view=curves',
  };
  shoot(outDir, dirs, views).then((files) => console.log(files.join('\n')), (e) => { console.error(e); process.exitCode = 1; });
}
