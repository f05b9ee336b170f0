/**
 * Key schemas of the DynamoDB tables. Pure data, read by the CDK tables construct and by the
 * local platform (which creates the same tables in dynalite), so both always agree.
 * Access patterns and item layouts are documented in docs/data-model.md.
 */
export type AttributeType = 'S' | 'N';
export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}
export interface IndexSpec {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}
export interface TableSpec {
  /** Construct id / local table name stem. */
  readonly id: 'Firmware' | 'Deployments' | 'Devices';
  /** Environment variable through which functions receive the table name. */
  readonly envVar: 'FIRMWARE_TABLE' | 'DEPLOYMENTS_TABLE' | 'DEVICES_TABLE';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexSpec[];
}

/** Products (`#PRODUCT` item, holding the build counter), firmware builds (`FW#…`) and version locks (`VER#…`). */
export const FIRMWARE_TABLE: TableSpec = {
  id: 'Firmware',
  envVar: 'FIRMWARE_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [],
};

/** Deployments of a product: pk = productId, sk = deploymentId. Few per product, read together. */
export const DEPLOYMENTS_TABLE: TableSpec = {
  id: 'Deployments',
  envVar: 'DEPLOYMENTS_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [],
};

/** One item per device: pk = `<productId>#<deviceId>` (high cardinality, no hot partition). */
export const DEVICES_TABLE: TableSpec = {
  id: 'Devices',
  envVar: 'DEVICES_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  indexes: [
    // Operator listing of a product's devices, ordered by device id.
    { indexName: 'byProduct', partitionKey: { name: 'productId', type: 'S' }, sortKey: { name: 'deviceId', type: 'S' } },
    // IoTaaP device paths name a device by id alone. Sparse: only IoTaaP-bound devices carry globalId.
    { indexName: 'byGlobalId', partitionKey: { name: 'globalId', type: 'S' } },
  ],
};

export const TABLES: readonly TableSpec[] = [FIRMWARE_TABLE, DEPLOYMENTS_TABLE, DEVICES_TABLE];
