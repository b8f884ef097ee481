export interface SourceVideo {
  width: number;
  height: number;
  fps: number;
}
