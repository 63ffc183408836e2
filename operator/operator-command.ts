// `pipetrain operator`: runs the PipelineJob controller (main.ts) until SIGTERM / SIGINT. Registered by
// operator/cli.ts only: the stage image's CLI (trainer/bin/pipetrain.js) has no operator in it.
import { Option, type Command } from 'commander';
import { DEFAULT_STAGE_COMMAND, DEFAULT_STAGE_IMAGE } from '../trainer/src/contract/index.ts';

function splitCommand(value: string): string[] {
  const argv = value.trim().split(/\s+/).filter(Boolean);
  if (argv.length === 0) throw new Error('--stage-command must not be empty');
  return argv;
}

export function registerOperator(program: Command): void {
  program
    .command('operator')
    .description('Run the Kubernetes operator: PipelineJobs become stage pods, restarted together on failure')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster config, else $KUBECONFIG or ~/.kube/config)')
    .option('--namespace <ns>', 'watch only this namespace (default: all namespaces)')
    .option('--metrics-address <addr>', 'address of /metrics, /healthz and /readyz', ':8080')
    .option('--leader-elect', 'elect a leader through a Lease so only one replica acts', false)
    .option('--lease-namespace <ns>', 'namespace of the leader Lease (default: --namespace, $POD_NAMESPACE or "default")')
    .option('--log-format <format>', 'json or text', 'json')
    .addOption(new Option('--stage-command <argv>', 'command of the stage containers, space-separated').default(DEFAULT_STAGE_COMMAND.join(' ')).env('PIPETRAIN_STAGE_COMMAND'))
    .option('--stage-image <image>', 'image of the stage pods when spec.image is empty', DEFAULT_STAGE_IMAGE)
    .option('--workers <n>', 'concurrent reconciles (different jobs)', '4')
    .option('--identity <id>', 'name of this replica in the leader Lease (default: <hostname>_<random>)')
    .addHelpText('after', `
Stops gracefully on SIGTERM: in-flight reconciles finish and the leader Lease is released.`)
    .action(async (opts: { kubeconfig?: string; namespace?: string; metricsAddress: string; leaderElect: boolean; leaseNamespace?: string; logFormat: string; stageCommand: string; stageImage: string; workers: string; identity?: string }) => {
      if (opts.logFormat !== 'json' && opts.logFormat !== 'text') throw new Error(`--log-format must be json or text; got ${opts.logFormat}`);
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer; got ${opts.workers}`);
      const { runOperator } = await import('./main.ts');
      const running = await runOperator({
        kubeconfig: opts.kubeconfig,
        namespace: opts.namespace,
        metricsAddress: opts.metricsAddress,
        leaderElect: opts.leaderElect,
        leaseNamespace: opts.leaseNamespace,
        logFormat: opts.logFormat,
        stageCommand: splitCommand(opts.stageCommand),
        stageImage: opts.stageImage,
        workers,
        identity: opts.identity,
      });
      await new Promise<void>((resolve) => {
        const stop = () => void running.stop().then(resolve, resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
