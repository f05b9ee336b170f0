/**
 * Builds the stores and services a function needs from its environment. Each handler calls only
 * the factories for the tables it was bound to, at module scope (once per container).
 */
import { documentClient } from './aws';
import { configCacheTtlMs, numberEnv, tableNames } from './config';
import { ProductConfigCache } from './config-cache';
import { ENV } from './env';
import { CatalogStore } from './store/catalog-store';
import { DeploymentStore } from './store/deployment-store';
import { DeviceStore } from './store/device-store';
import { SigningKeyStore } from './store/signing-key-store';

export const catalogStore = (): CatalogStore => new CatalogStore(documentClient(), tableNames('firmware').firmware);
export const deploymentStore = (): DeploymentStore => new DeploymentStore(documentClient(), tableNames('deployments').deployments);
export const signingKeyStore = (): SigningKeyStore => new SigningKeyStore(documentClient(), tableNames('firmware').firmware);
export const deviceStore = (): DeviceStore => new DeviceStore(documentClient(), tableNames('devices').devices);

export const productConfigCache = (catalog: CatalogStore, deployments?: DeploymentStore): ProductConfigCache =>
  new ProductConfigCache(catalog, deployments, configCacheTtlMs());

export const lastSeenWriteIntervalMs = (): number => numberEnv(ENV.LAST_SEEN_WRITE_INTERVAL_SECONDS, 3600) * 1000;
