// Cross-stage check: every message one stage sends is received by its neighbour, and vice versa.
// Activations flow s -> s+1 (SEND_F / RECV_F), input gradients s+1 -> s (SEND_B / RECV_B).
import { action, formatAction, type Action, type ActionKind, type StagePrograms } from './action.ts';
import { issue, type ValidationIssue } from './issues.ts';

interface Link {
  readonly from: number;
  readonly send: ActionKind;
  readonly to: number;
  readonly recv: ActionKind;
}

export function checkPairing(programs: StagePrograms): ValidationIssue[] {
  const links: Link[] = [];
  for (let s = 0; s + 1 < programs.length; s++) {
    links.push({ from: s, send: 'SEND_F', to: s + 1, recv: 'RECV_F' }, { from: s + 1, send: 'SEND_B', to: s, recv: 'RECV_B' });
  }
  return links.flatMap((link) => checkLink(programs, link));
}

function checkLink(programs: StagePrograms, link: Link): ValidationIssue[] {
  const sends = indexByMicroBatch(programs[link.from] ?? [], link.send);
  const recvs = indexByMicroBatch(programs[link.to] ?? [], link.recv);
  const found: ValidationIssue[] = [];
  for (const mb of new Set([...sends.keys(), ...recvs.keys()])) {
    const sent = sends.get(mb) ?? [];
    const received = recvs.get(mb) ?? [];
    const counterpart = (stage: number, kind: ActionKind) => formatAction(action(stage, kind, mb));
    // Only the surplus is wrong: with two sends and one receive, the second send is the orphan.
    for (const index of sent.slice(received.length)) {
      found.push(issue(link.from, index, programs[link.from]?.[index] ?? null, `no matching ${counterpart(link.to, link.recv)} on stage ${link.to}`));
    }
    for (const index of received.slice(sent.length)) {
      found.push(issue(link.to, index, programs[link.to]?.[index] ?? null, `no matching ${counterpart(link.from, link.send)} on stage ${link.from}`));
    }
  }
  return found;
}

function indexByMicroBatch(program: readonly Action[], kind: ActionKind): Map<number | null, number[]> {
  const byMicroBatch = new Map<number | null, number[]>();
  program.forEach((a: Action, index) => {
    if (a.kind === kind) byMicroBatch.set(a.microBatch, [...(byMicroBatch.get(a.microBatch) ?? []), index]);
  });
  return byMicroBatch;
}
