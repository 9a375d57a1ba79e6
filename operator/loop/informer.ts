/** The list-watch cache lives in services/platform/kube/ (the API's watch uses it too). */
export * from '../../services/platform/kube/informer.js';
