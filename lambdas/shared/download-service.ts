/**
 * Records what the CDN delivered on the device's open offer: a completed download of the offered
 * app image marks the offer `downloaded` (once, counted on its deployment). It is the evidence an
 * inferred failure rests on — a device that downloaded the whole image and then checks in on its
 * old version did not install it. Fed by the local edge as each response finishes, and in the
 * cloud by the function that reads CloudFront's standard logs (minutes late, which is fine: the
 * mark only matters for check-ins after it).
 */
import type { DownloadSink, ServedDownload } from '../core/download';
import { OutcomeService } from './outcome-service';
import type { DeploymentStore } from './store/deployment-store';
import type { DeviceStore } from './store/device-store';
import { deploymentStore, deviceStore } from './wiring';

export interface DownloadServiceDeps {
  readonly deployments: DeploymentStore;
  readonly devices: DeviceStore;
}

export class DownloadService implements DownloadSink {
  private readonly outcomes: OutcomeService;
  constructor(private readonly deps: DownloadServiceDeps) {
    this.outcomes = new OutcomeService(deps);
  }

  async recordDownloads(downloads: readonly ServedDownload[]): Promise<void> {
    for (const d of downloads) {
      if (d.role !== 'app' || !d.deviceId || !(await this.isWhole(d))) continue;
      await this.outcomes.step(d.productId, d.deviceId, d.build, 'downloadedAt');
    }
  }

  /** A 200 that delivered every byte, or a (resumed) range that reached the image's last byte. */
  private async isWhole(d: ServedDownload): Promise<boolean> {
    if (d.complete) return true;
    if (d.status !== 206 || d.rangeEnd === undefined) return false;
    // Rare (resumed downloads only): one Query of the product's deployments for the image's size.
    const build = (await this.deps.deployments.list(d.productId)).find((x) => x.build === d.build);
    const size = build?.firmware.files.find((f) => f.role === 'app')?.size;
    return size !== undefined && d.rangeEnd === size - 1;
  }
}

/** The download sink of a function bound to the devices and deployments tables. */
export const downloadService = (): DownloadService => new DownloadService({ deployments: deploymentStore(), devices: deviceStore() });
