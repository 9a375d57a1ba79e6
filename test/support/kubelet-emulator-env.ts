/**
 * The environment of a container run by the kubelet emulator, as a kubelet builds it: `envFrom`
 * Secrets and ConfigMaps, `env` values, secretKeyRef, configMapKeyRef and fieldRef; values that
 * name a mount path (or a path below one) point at the volume's directory instead, a volume at
 * /tmp becomes TMPDIR, and NFC_TERMINATION_LOG names the file read back as the termination
 * message (a container's terminationMessagePath cannot be mounted here).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';

/** The container's environment, as a kubelet would build it, with mount paths mapped to directories. */
export async function containerEnvironment(
  core: CoreV1Api,
  pod: V1Pod,
  container: V1Container,
  volumes: Map<string, string>,
  podDir: string,
  kubeconfigPath: string,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: podDir,
    LANG: 'C.UTF-8',
    HOSTNAME: pod.metadata?.name ?? '',
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.secretRef) {
      const data = await secret(core, namespace, from.secretRef.name ?? '', from.secretRef.optional);
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
    if (from.configMapRef) {
      const data = await configMap(core, namespace, from.configMapRef.name ?? '', from.configMapRef.optional);
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom;
    if (ref?.secretKeyRef) {
      const v = (await secret(core, namespace, ref.secretKeyRef.name ?? '', ref.secretKeyRef.optional))[
        ref.secretKeyRef.key
      ];
      if (v !== undefined) env[e.name] = v;
      else if (!ref.secretKeyRef.optional)
        throw new Error(`couldn't find key ${ref.secretKeyRef.key} in Secret ${namespace}/${ref.secretKeyRef.name}`);
    }
    if (ref?.configMapKeyRef) {
      const data = await configMap(core, namespace, ref.configMapKeyRef.name ?? '', ref.configMapKeyRef.optional);
      const v = data[ref.configMapKeyRef.key];
      if (v !== undefined) env[e.name] = v;
    }
    if (ref?.fieldRef) {
      const fields: Record<string, string | undefined> = {
        'metadata.name': pod.metadata?.name,
        'metadata.namespace': namespace,
        'metadata.uid': pod.metadata?.uid,
        'spec.nodeName': pod.spec?.nodeName,
        'spec.serviceAccountName': pod.spec?.serviceAccountName,
        'status.podIP': '127.0.0.1',
        'status.hostIP': '127.0.0.1',
      };
      env[e.name] = fields[ref.fieldRef.fieldPath] ?? '';
    }
  }
  // Mounts: paths the process is told about point at the volume's directory instead.
  const mounts = (container.volumeMounts ?? [])
    .flatMap((m) => {
      const host = volumes.get(m.name);
      return host ? [{ path: m.mountPath.replace(/\/+$/, ''), host }] : [];
    })
    .sort((a, b) => b.path.length - a.path.length);
  for (const [k, v] of Object.entries(env)) {
    const m = mounts.find((x) => v === x.path || v.startsWith(`${x.path}/`));
    if (m) env[k] = m.host + v.slice(m.path.length);
  }
  const tmp = mounts.find((m) => m.path === '/tmp');
  if (tmp) env.TMPDIR = tmp.host;
  env.KUBECONFIG = kubeconfigPath;
  const terminationLog = join(podDir, `${container.name}.termination-log`);
  await writeFile(terminationLog, '');
  env.NFC_TERMINATION_LOG = terminationLog;
  return env;
}

async function secret(
  core: CoreV1Api,
  namespace: string,
  name: string,
  optional?: boolean,
): Promise<Record<string, string>> {
  try {
    const s = await core.readNamespacedSecret({ name, namespace });
    const out: Record<string, string> = { ...s.stringData };
    for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  } catch (err) {
    if (optional && (err as { code?: number }).code === 404) return {};
    throw new Error(`secret "${name}" not found in ${namespace}`);
  }
}

async function configMap(
  core: CoreV1Api,
  namespace: string,
  name: string,
  optional?: boolean,
): Promise<Record<string, string>> {
  try {
    return (await core.readNamespacedConfigMap({ name, namespace })).data ?? {};
  } catch (err) {
    if (optional && (err as { code?: number }).code === 404) return {};
    throw new Error(`configmap "${name}" not found in ${namespace}`);
  }
}
