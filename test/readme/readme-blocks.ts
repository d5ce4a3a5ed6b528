/**
 * The README's code blocks as steps: a command (a line at column 0, with its indented
 * continuation lines) and the output the README shows for it (the `# …` lines that follow).
 */

export interface CodeBlock {
  /** The fence's language: `sh`, `ts`, … */
  lang: string;
  /** The heading the block sits under. */
  heading: string;
  lines: string[];
}

export interface Step {
  /** The command as written, continuation lines included. */
  command: string;
  /** The README's `# ` lines after it, without the `# `; a JSON line wrapped onto the next is joined. */
  expected: string[];
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let heading = '';
  let open: CodeBlock | undefined;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push(open);
        open = undefined;
      } else open.lines.push(line);
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), heading, lines: [] };
    else if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
  }
  return blocks;
}

export function shellSteps(block: CodeBlock): Step[] {
  const steps: Step[] = [];
  for (const line of block.lines) {
    const current = steps.at(-1);
    if (line === '#' || line.startsWith('# ')) {
      if (!current) throw new Error(`output before any command in the block under "${block.heading}": ${line}`);
      const text = line.slice(2);
      const previous = current.expected.at(-1);
      // `#  "redis":…` goes on with the JSON of the line before.
      if (previous !== undefined && previous.endsWith(',') && text.startsWith(' ')) current.expected[current.expected.length - 1] = previous + text.trim();
      else current.expected.push(text);
    } else if (line.trim() === '') continue;
    else if (/^\s/.test(line) && current && current.expected.length === 0) current.command += `\n${line}`;
    else steps.push({ command: line, expected: [] });
  }
  return steps;
}
