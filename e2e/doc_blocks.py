#!/usr/bin/env python3
"""Docs are tests: run the runnable fenced blocks of Markdown files (TAP output).

Markers are HTML comments (invisible once rendered) on the line right before a fence:

  <!-- runnable -->            run the block (bash, set -e); it must exit 0
  <!-- runnable exit=N -->     ... it must exit N (for blocks that show an error)
  <!-- runnable timeout=S -->  time bound in seconds (default 120)
  <!-- runnable service wait="REGEX" [timeout=S] -->
                               start the block in the background (its last line is
                               the service, exec'd) and go on once REGEX shows in its output (default timeout 30 s); it runs until
                               the end of the document, then its process group gets
                               SIGTERM, and it must still be running then and exit 0
  <!-- file: PATH -->          write the block's text to PATH (relative) before later blocks
  <!-- output -->              the block is the expected standard output of the runnable
                               block before it

In a runnable block whose lines start with "$ " (a console transcript), each "$ " line
(with its "\\" continuations) is a command and the lines up to the next "$ " are its
expected standard output. Output is compared line by line after dropping trailing
blanks; "..." inside a line matches any text, and a line that is only "..." matches any
number of lines.

Each document gets a scratch directory: work/ (where every block starts; cd and export do
not carry over to the next block), home/ ($HOME) and state/ ($XDG_STATE_HOME). work/
looks like a checkout for what the docs use from one: build/bin, build/plugins and
build/lib link to the build, config/ is a copy of the repository's config/. PATH starts
with the build's bin/. The default service ports are moved to free ones: the gateway's
and DAG manager's ports through QMTL__GATEWAY__PORT, QMTL__DAGMANAGER__PORT and
QMTL__GATEWAY__DAGMANAGER_URL, and "127.0.0.1:8000" / "127.0.0.1:8001" in block and file
text. Every block runs in its own process group, which is killed when the block ends.
After a document, a database file (*.db) left anywhere in work/ fails the document: the
services must keep their state in the state directory.

Usage: doc_blocks.py --root DIR --build DIR --scratch DIR FILE.md...
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

MARKER = re.compile(r'^\s*<!--\s*(runnable|file|output)\b:?\s*(.*?)\s*-->\s*$')
FENCE = re.compile(r'^(\s*)(`{3,}|~{3,})(.*)$')


class Block:
    def __init__(self, doc, line, kind, opts, text):
        self.doc, self.line, self.kind, self.opts, self.text = doc, line, kind, opts, text
        self.expected = None  # text of a following <!-- output --> block


def parse_opts(s):
    opts = {}
    for word in shlex.split(s):
        k, eq, v = word.partition('=')
        opts[k] = v if eq else True
    return opts


def extract(path, rel):
    """The marked blocks of one Markdown file, in order; output blocks attached."""
    lines = open(path, encoding='utf-8').read().split('\n')
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        i += 1
        mk = MARKER.match(lines[start - 1]) if start > 0 else None
        if not mk:
            continue
        kind, opts = mk.group(1), mk.group(2)
        text = '\n'.join(body) + '\n'
        if kind == 'output':
            prev = next((b for b in reversed(blocks) if b.kind == 'runnable'), None)
            if prev is None or prev.expected is not None:
                raise SystemExit('%s:%d: an output block needs a runnable block before it'
                                 % (rel, start + 1))
            prev.expected = text
            continue
        if kind == 'file':
            name = opts.strip()
            if not name or name.startswith('/') or '..' in name.split('/'):
                raise SystemExit('%s:%d: file block needs a relative path, got %r'
                                 % (rel, start + 1, name))
            blocks.append(Block(rel, start + 1, 'file', {'path': name}, text))
            continue
        blocks.append(Block(rel, start + 1, 'runnable', parse_opts(opts), text))
    return blocks


def normalise(text):
    lines = [ln.rstrip() for ln in text.split('\n')]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return '\n'.join(lines)


def matches(expected, actual):
    """'...' in a line matches any text of that line; a '...' line matches any lines."""
    exp, act = normalise(expected), normalise(actual)
    if exp == act:
        return True
    rx = ''
    for ln in exp.split('\n') if exp else []:
        if ln.strip() == '...':
            rx += r'(?:[^\n]*\n)*?'
        else:
            rx += r'[^\n]*'.join(re.escape(p) for p in ln.split('...')) + r'\n'
    return re.fullmatch(rx, act + '\n' if act else '') is not None


def console(text):
    """Split a '$ ' transcript into (command, expected output) pairs."""
    out, cmd, exp, cont = [], None, [], False
    for ln in text.rstrip('\n').split('\n'):
        if cont:
            cmd += '\n' + ln
            cont = ln.endswith('\\')
        elif ln.startswith('$ '):
            if cmd is not None:
                out.append((cmd, '\n'.join(exp)))
            cmd, exp = ln[2:], []
            cont = ln.endswith('\\')
        elif cmd is not None:
            exp.append(ln)
    if cmd is not None:
        out.append((cmd, '\n'.join(exp)))
    return out


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stop_group(proc, grace=5.0):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


class Runner:
    def __init__(self, args):
        self.root = os.path.abspath(args.root)
        self.build = os.path.join(self.root, args.build)
        self.scratch = os.path.abspath(args.scratch)
        self.n = 0
        self.failed = 0

    def result(self, good, what, detail=None):
        self.n += 1
        if not good:
            self.failed += 1
        print('%s %d - %s' % ('ok' if good else 'not ok', self.n, what))
        if not good and detail:
            for ln in detail.rstrip('\n').split('\n')[-80:]:
                print('#   ' + ln)
        sys.stdout.flush()

    def prepare(self, doc):
        base = os.path.join(self.scratch, re.sub(r'[^A-Za-z0-9_.-]', '_', doc).lstrip('._'))
        shutil.rmtree(base, ignore_errors=True)
        self.work = os.path.join(base, 'work')
        self.blockdir = os.path.join(base, 'blocks')
        for d in ('work/build', 'home', 'state', 'blocks'):
            os.makedirs(os.path.join(base, d))
        for d in ('bin', 'plugins', 'lib'):
            os.symlink(os.path.join(self.build, d), os.path.join(self.work, 'build', d))
        shutil.copytree(os.path.join(self.root, 'config'), os.path.join(self.work, 'config'))
        self.gw_port, self.dm_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('QMTL') and k not in ('XDG_STATE_HOME', 'MAKEFLAGS',
                                                         'MAKELEVEL', 'MFLAGS')}
        env.update({
            'HOME': os.path.join(base, 'home'),
            'XDG_STATE_HOME': os.path.join(base, 'state'),
            'PATH': os.path.join(self.build, 'bin') + ':' + os.environ.get('PATH', '/usr/bin:/bin'),
            'QMTL__GATEWAY__PORT': str(self.gw_port),
            'QMTL__DAGMANAGER__PORT': str(self.dm_port),
            'QMTL__GATEWAY__DAGMANAGER_URL': 'http://127.0.0.1:%d' % self.dm_port,
            'EDITOR': 'true',
        })
        self.env = env
        self.services = []

    def ports(self, text):
        return (text.replace('127.0.0.1:8000', '127.0.0.1:%d' % self.gw_port)
                .replace('127.0.0.1:8001', '127.0.0.1:%d' % self.dm_port))

    def write_file(self, b):
        path = os.path.join(self.work, b.opts['path'])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(self.ports(b.text))

    def spawn(self, b, script):
        name = os.path.join(self.blockdir, '%d' % b.line)
        with open(name + '.sh', 'w') as f:
            f.write('set -e\n' + script)
        out, err = open(name + '.out', 'w'), open(name + '.err', 'w')
        proc = subprocess.Popen(['bash', name + '.sh'], cwd=self.work, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        out.close()
        err.close()
        return proc, name

    @staticmethod
    def read(name):
        with open(name, errors='replace') as f:
            return f.read()

    def run_service(self, b, what):
        wait = b.opts.get('wait')
        timeout = float(b.opts.get('timeout', 30))
        # the last line is the service (exec'd, so SIGTERM reaches it); lines before it
        # prepare its environment (e.g. '. tokens.env')
        lines = self.ports(b.text).strip().split('\n')
        script = '\n'.join(lines[:-1] + ['exec ' + lines[-1]]) + '\n'
        proc, name = self.spawn(b, script)
        self.services.append((proc, what, name))
        deadline = time.monotonic() + timeout
        rx = re.compile(wait) if isinstance(wait, str) else None
        while True:
            text = self.read(name + '.out') + self.read(name + '.err')
            if rx is None or rx.search(text):
                return self.result(True, what)
            if proc.poll() is not None:
                return self.result(False, what + ' (exited %d before it was ready)'
                                   % proc.returncode, text)
            if time.monotonic() > deadline:
                return self.result(False, what + ' (not ready within %gs)' % timeout, text)
            time.sleep(0.1)

    def run_block(self, b):
        what = '%s:%d' % (b.doc, b.line)
        if b.opts.get('service'):
            return self.run_service(b, what)
        text = self.ports(b.text)
        steps = console(text) if re.search(r'^\$ ', text, re.M) else None
        if steps:
            script = ''.join("printf '\\n@@qmtl-doc-step %d@@\\n'\n%s\n" % (i, c)
                             for i, (c, _) in enumerate(steps))
        else:
            script = text
        timeout = float(b.opts.get('timeout', 120))
        want_rc = int(b.opts.get('exit', 0))
        proc, name = self.spawn(b, script)
        try:
            rc = proc.wait(timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            rc, timed_out = None, True
        stop_group(proc, 1.0)
        out, err = self.read(name + '.out'), self.read(name + '.err')
        if timed_out:
            return self.result(False, what + ' (timed out after %gs)' % timeout, out + err)
        problems = []
        if rc != want_rc:
            problems.append('exit status %d, wanted %d' % (rc, want_rc))
        if steps:
            got = re.split(r'\n?@@qmtl-doc-step \d+@@\n', out)[1:]
            for i, (cmd, exp) in enumerate(steps):
                actual = got[i] if i < len(got) else ''
                if i < len(got) and not matches(exp, actual):
                    problems.append('output of "%s" differs from the doc:\n--- doc\n%s\n--- got\n%s'
                                    % (cmd.split('\n')[0], normalise(exp), normalise(actual)))
        if b.expected is not None and not matches(self.ports(b.expected), out):
            problems.append('output differs from the doc:\n--- doc\n%s\n--- got\n%s'
                            % (normalise(b.expected), normalise(out)))
        if problems:
            tail = '\n'.join(err.rstrip('\n').split('\n')[-12:])
            return self.result(False, what + ' (' + problems[0].split('\n')[0] + ')',
                               '\n'.join(problems)[-6000:] + '\n--- stderr (end)\n' + tail)
        self.result(True, what)

    def finish_doc(self, doc):
        for proc, what, name in self.services:
            alive = proc.poll() is None
            stop_group(proc)
            rc = proc.returncode
            self.result(alive and rc == 0,
                        '%s: service %s, stopped by SIGTERM (exit %s)'
                        % (what, 'still running' if alive else 'had exited', rc),
                        self.read(name + '.err'))
        left = []
        for d, _, files in os.walk(self.work):
            for f in files:
                if f.endswith('.db') or f.endswith('.db-wal'):
                    left.append(os.path.relpath(os.path.join(d, f), self.work))
        self.result(not left, '%s: no database written into the working directory' % doc,
                    'found: ' + ', '.join(sorted(left)))

    def run(self, files):
        for path in files:
            rel = os.path.relpath(os.path.abspath(path), self.root)
            blocks = extract(path, rel)
            if not any(b.kind == 'runnable' for b in blocks):
                continue
            self.prepare(rel)
            for b in blocks:
                if b.kind == 'file':
                    self.write_file(b)
                else:
                    self.run_block(b)
            self.finish_doc(rel)
        print('1..%d' % self.n)
        print('# %d passed, %d failed' % (self.n - self.failed, self.failed))
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description='run the runnable blocks of Markdown files')
    ap.add_argument('--root', required=True, help='the checkout (config/ is copied from it)')
    ap.add_argument('--build', required=True, help='build directory, relative to --root')
    ap.add_argument('--scratch', required=True, help='where the scratch directories go')
    ap.add_argument('files', nargs='+')
    args = ap.parse_args()
    sys.exit(Runner(args).run(args.files))


if __name__ == '__main__':
    main()
