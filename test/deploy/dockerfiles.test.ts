/**
 * The three images, checked without a Docker engine: hadolint finds nothing to warn about, each
 * COPY takes files that exist and that .dockerignore lets through, every image runs the `nfc` CLI
 * as a non-root user from pinned base images, and the chart runs each image with a command of
 * that CLI (operator, serve, worker job…).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS, OPERATOR_V8_FLAGS } from '../../operator/node-runtime.js';
import { containersOf, podSpecs, render, SCENARIOS } from './support/chart.js';
import { dockerIgnored, execForm, parseCopy, parseDockerfile, type Stage } from './support/dockerfile.js';
import { ROOT, run } from './support/tools.js';

/** The CLI through tsx; the operator image runs it compiled (`npm run build`, for its memory). */
const TSX_ENTRYPOINT = ['node', '--import', 'tsx/esm', 'services/cli/main.ts'];
const COMPILED_ENTRYPOINT = ['node', ...OPERATOR_V8_FLAGS, 'dist/services/cli/main.js'];

interface Image {
  dockerfile: string;
  entrypoint: string[];
  /** Final stages (build targets) and the command each runs by default. */
  targets: Record<string, string[]>;
  /** Image repositories of the chart that are built from it. */
  repositories: string[];
  /** The commands the chart may run it with. */
  commands: string[][];
}

const IMAGES: Image[] = [
  {
    dockerfile: 'Dockerfile.operator',
    entrypoint: COMPILED_ENTRYPOINT,
    targets: { '': ['operator'] },
    repositories: ['nfc-operator'],
    commands: [['operator']],
  },
  {
    dockerfile: 'Dockerfile.api',
    entrypoint: TSX_ENTRYPOINT,
    targets: { '': ['serve'] },
    repositories: ['nfc-api'],
    commands: [['serve'], ['migrate']],
  },
  {
    dockerfile: 'Dockerfile.worker',
    entrypoint: TSX_ENTRYPOINT,
    targets: { gpu: ['worker', 'job'], cpu: ['worker', 'job'] },
    repositories: ['nfc-worker', 'nfc-worker-cpu'],
    commands: [
      ['worker', 'job'],
      ['worker', 'queue'],
    ],
  },
];

interface HadolintFinding {
  line: number;
  code: string;
  message: string;
  level: 'error' | 'warning' | 'info' | 'style';
}

const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');

function load(dockerfile: string) {
  return parseDockerfile(readFileSync(join(ROOT, dockerfile), 'utf8'));
}

function stageNamed(stages: Stage[], target: string): Stage {
  const stage = target === '' ? stages.at(-1) : stages.find((s) => s.name === target);
  assert.ok(stage, `no stage "${target}"`);
  return stage;
}

/** The last value of an instruction in a stage, following its FROM chain through earlier stages. */
function inherited(stages: Stage[], stage: Stage, keyword: string): string | undefined {
  const own = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (own) return own.rest;
  const parent = stages.find((s) => s.name === stage.base);
  return parent ? inherited(stages, parent, keyword) : undefined;
}

for (const image of IMAGES) {
  describe(image.dockerfile, () => {
    it('passes hadolint with no errors or warnings', () => {
      const r = run('hadolint', ['--format', 'json', '--no-fail', image.dockerfile]);
      assert.equal(r.status, 0, r.stderr);
      const findings = JSON.parse(r.stdout || '[]') as HadolintFinding[];
      const serious = findings.filter((f) => f.level === 'error' || f.level === 'warning');
      assert.deepEqual(
        serious.map((f) => `${image.dockerfile}:${f.line} ${f.code} ${f.message}`),
        [],
      );
    });

    it('explains every ignored hadolint rule in a comment above it', () => {
      const lines = readFileSync(join(ROOT, image.dockerfile), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const m = /#\s*hadolint ignore=([\w,]+)/.exec(line);
        if (!m?.[1]) return;
        const above = lines.slice(Math.max(0, i - 3), i).join('\n');
        for (const rule of m[1].split(',')) {
          assert.match(
            above,
            new RegExp(`${rule}\\b.*\\S{10,}`),
            `${image.dockerfile}:${i + 1}: say why ${rule} is ignored`,
          );
        }
      });
    });

    it('copies only files that exist in the repository and that .dockerignore lets in', () => {
      const { stages } = load(image.dockerfile);
      const names = new Set(stages.map((s) => s.name));
      for (const stage of stages) {
        for (const ins of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
          assert.equal(ins.keyword, 'COPY', `${image.dockerfile}:${ins.line}: use COPY, not ADD`);
          const copy = parseCopy(ins);
          if (copy.from) {
            // From an earlier stage or a pinned image.
            assert.ok(
              names.has(copy.from) || /:[\w.-]+$/.test(copy.from),
              `${image.dockerfile}:${ins.line}: --from=${copy.from}`,
            );
            continue;
          }
          assert.ok(copy.sources.length > 0, `${image.dockerfile}:${ins.line}: COPY without sources`);
          for (const source of copy.sources) {
            assert.ok(
              !/[*?]/.test(source) && source !== '.',
              `${image.dockerfile}:${ins.line}: copy named paths, not ${source}`,
            );
            assert.ok(
              existsSync(join(ROOT, source)),
              `${image.dockerfile}:${ins.line}: ${source} does not exist in the repository`,
            );
            assert.ok(
              !dockerIgnored(dockerignore, source),
              `${image.dockerfile}:${ins.line}: .dockerignore excludes ${source}`,
            );
          }
        }
      }
    });

    for (const [target, command] of Object.entries(image.targets)) {
      const label = target === '' ? 'the image' : `target "${target}"`;

      it(`${label} runs the nfc CLI (${command.join(' ')}) as a non-root user`, () => {
        const { stages } = load(image.dockerfile);
        const stage = stageNamed(stages, target);
        assert.deepEqual(execForm(inherited(stages, stage, 'ENTRYPOINT') ?? ''), image.entrypoint);
        assert.deepEqual(execForm(inherited(stages, stage, 'CMD') ?? ''), command);
        assert.ok(image.commands.some((c) => c.join(' ') === command.join(' ')));
        assert.equal(inherited(stages, stage, 'WORKDIR'), '/app');
        const user = inherited(stages, stage, 'USER') ?? 'root';
        assert.match(
          user,
          /^[1-9][0-9]*(:[1-9][0-9]*)?$/,
          `USER ${user}: run as a numeric non-root uid (runAsNonRoot needs one)`,
        );
        // The entry point (or, compiled, the source it is built from) and the package manifest
        // are in the image, and exist.
        const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === 'COPY').map((i) => parseCopy(i));
        const copied = copies(stage).flatMap((c) => c.sources);
        assert.ok(copied.includes('package.json'), 'package.json ("type": "module") is not copied');
        const compiled = image.entrypoint === COMPILED_ENTRYPOINT;
        if (compiled) {
          const fromBuild = copies(stage).find((c) => c.sources.includes('/app/dist'));
          const build = stages.find((s) => s.name === fromBuild?.from);
          assert.ok(build, 'dist/ is not copied from a build stage');
          assert.ok(
            copies(build).some((c) => c.sources.includes('services')),
            'the build stage lacks services/',
          );
          assert.match(
            build.instructions.map((i) => `${i.keyword} ${i.rest}`).join('\n'),
            /RUN npm run build/,
            'the build stage does not run npm run build',
          );
        } else {
          assert.ok(copied.includes('services'), 'services/ (the CLI) is not copied');
        }
        const source = 'services/cli/main.ts';
        assert.ok(existsSync(join(ROOT, source)));
        assert.ok(!dockerIgnored(dockerignore, source), '.dockerignore excludes the entry point');
        const env = inherited(stages, stage, 'ENV') ?? '';
        assert.match(env, /TMPDIR=\/tmp/, 'scratch files must go to /tmp (the only writable path)');
      });
    }

    it('builds from pinned base images (Node.js 24 on bookworm-slim, a versioned CUDA runtime)', () => {
      const { stages } = load(image.dockerfile);
      for (const stage of stages) {
        if (stages.some((s) => s.name === stage.base)) continue;
        if (stage.base.startsWith('node:')) {
          assert.match(stage.base, /^node:24\.\d+\.\d+-bookworm-slim$/, stage.base);
        } else {
          assert.match(stage.base, /^nvidia\/cuda:\d+\.\d+\.\d+-cudnn\d+-runtime-ubuntu\d+\.\d+$/, stage.base);
        }
      }
    });

    it('is run by the chart only with commands of its CLI', () => {
      const seen = new Set<string>();
      for (const scenario of SCENARIOS) {
        for (const { owner, spec } of podSpecs(render(scenario))) {
          for (const c of containersOf(spec)) {
            const repository = /([^/:@]+)(?::[^/]*)?$/.exec(c.image)?.[1] ?? '';
            if (!image.repositories.includes(repository)) continue;
            assert.equal(c.command, undefined, `${owner}/${c.name} overrides the entry point`);
            // The command, then its options (the operator adds --namespace and --name to `worker job`).
            const command = image.commands.find((cmd) => cmd.every((word, i) => c.args?.[i] === word));
            assert.ok(command, `${owner}/${c.name} runs ${image.dockerfile} with ${JSON.stringify(c.args)}`);
            seen.add(JSON.stringify(command));
          }
        }
      }
      for (const cmd of image.commands)
        assert.ok(seen.has(JSON.stringify(cmd)), `the chart never runs ${cmd.join(' ')}`);
    });
  });
}

describe('Dockerfile.worker variants', () => {
  it('lets npm run exactly tfjs-node-gpu install script in the GPU build, and no install script in the CPU one', () => {
    const { stages } = load('Dockerfile.worker');
    const runs = (name: string) =>
      stageNamed(stages, name)
        .instructions.filter((i) => i.keyword === 'RUN')
        .map((i) => i.rest)
        .join('\n');
    const gpuDeps = runs('gpu-deps');
    assert.match(gpuDeps, /allow-scripts=@tensorflow\/tfjs-node-gpu/);
    assert.match(gpuDeps, /npm ci\b/);
    assert.doesNotMatch(gpuDeps, /--ignore-scripts/);
    assert.match(gpuDeps, /tfjs_binding\.node/, 'the GPU build must fail when the TensorFlow binding is missing');
    assert.match(runs('cpu-deps'), /npm ci .*--ignore-scripts/);
    assert.match(runs('cpu-deps'), /rm -rf node_modules\/@tensorflow\/tfjs-node-gpu/);
    for (const target of ['cpu', 'gpu']) assert.match(runs(target), /\bffmpeg\b/, `${target} image has no FFmpeg`);
    assert.equal(stages.at(-1)?.name, 'gpu', 'the default target is the GPU image');
  });

  it('keeps node_modules, caches and test files out of the build context', () => {
    for (const path of [
      'node_modules',
      '.tools',
      '.cache',
      'charts',
      'test',
      'services/analysis/kinematics/angles.test.ts',
    ]) {
      assert.ok(dockerIgnored(dockerignore, path), `${path} is sent to the Docker daemon`);
    }
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'services/cli/main.ts', 'operator']) {
      assert.ok(!dockerIgnored(dockerignore, path), `${path} is excluded`);
    }
  });
});

describe('the operator runtime', () => {
  it('compiles (npm run build, as the image does) to an entry point that runs the operator command', () => {
    const out = join(ROOT, '.scratch/dist-test');
    rmSync(out, { recursive: true, force: true });
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
    const main = join(out, 'services/cli/main.js');
    const nfc = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [...OPERATOR_V8_FLAGS, main, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_OPTIONS: OPERATOR_NODE_OPTIONS, ...env },
      });
    const help = nfc(['operator', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /NFC_MAX_RUNNING/);
    // The operator's modules load and check their settings: a wrong one is named, exit 2.
    const invalid = nfc(['operator'], { NFC_OPERATOR_CONCURRENCY: 'many' });
    assert.equal(invalid.status, 2, `${invalid.stdout}${invalid.stderr}`);
    assert.match(invalid.stderr, /NFC_OPERATOR_CONCURRENCY/);
    rmSync(out, { recursive: true, force: true });
  });

  it("runs with operator/node-runtime.ts's V8 flags, Node.js options and malloc arenas in the image and in bin/nfc", () => {
    const { stages } = load('Dockerfile.operator');
    const env = inherited(stages, stageNamed(stages, ''), 'ENV') ?? '';
    assert.ok(env.includes(`NODE_OPTIONS="${OPERATOR_NODE_OPTIONS}"`), `Dockerfile.operator ENV: ${env}`);
    assert.ok(env.includes(`MALLOC_ARENA_MAX=${OPERATOR_MALLOC_ARENA_MAX}`), `Dockerfile.operator ENV: ${env}`);
    const nfc = readFileSync(join(ROOT, 'bin/nfc'), 'utf8');
    const branch = /\n\s*operator\)\n([\s\S]*?);;/.exec(nfc)?.[1] ?? '';
    const flags = [...OPERATOR_V8_FLAGS, OPERATOR_NODE_OPTIONS].join(' ');
    assert.ok(branch.includes(`memory_flags=(${flags})`), `bin/nfc operator: ${branch}`);
    assert.ok(branch.includes(`MALLOC_ARENA_MAX:-${OPERATOR_MALLOC_ARENA_MAX}`), `bin/nfc operator: ${branch}`);
  });
});
