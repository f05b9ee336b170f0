import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE, FIRMWARE_TABLE, type TableSpec } from '../../lambdas/shared/table-schema';

export interface TablesProps {
  /** What happens to the tables when the stack is deleted. @default RETAIN — fleet state outlives stacks */
  readonly removalPolicy?: RemovalPolicy;
}

/** The three on-demand tables, built from the shared key schemas (docs/data-model.md). */
export class Tables extends Construct {
  public readonly firmware: dynamodb.Table;
  public readonly deployments: dynamodb.Table;
  public readonly devices: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps = {}) {
    super(scope, id);
    const make = (spec: TableSpec) => {
      const key = (k: { name: string; type: 'S' | 'N' }) => ({
        name: k.name,
        type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
      });
      const table = new dynamodb.Table(this, spec.id, {
        partitionKey: key(spec.partitionKey),
        ...(spec.sortKey ? { sortKey: key(spec.sortKey) } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      for (const index of spec.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: key(index.partitionKey),
          ...(index.sortKey ? { sortKey: key(index.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      return table;
    };
    this.firmware = make(FIRMWARE_TABLE);
    this.deployments = make(DEPLOYMENTS_TABLE);
    this.devices = make(DEVICES_TABLE);
  }
}
