/**
 * Which output position of a conv layer (no padding, square kernel) each input pixel is the centre
 * of: the stride × stride pixels at the middle of a position's receptive field, so every central
 * pixel belongs to exactly one position. Used to label (and read) only the positions whose centre
 * just spiked — the spike-triggered labelling of the motion-direction readout.
 *
 *   const centre = convCentres(32, 32, 7, 2); // Int32Array(32·32): position oy·OW + ox, or −1
 */
export interface ConvCentres {
  /** Per pixel (y·width + x): the output position it is a centre pixel of, or −1. */
  readonly positionOf: Int32Array;
  readonly outWidth: number;
  readonly outHeight: number;
}

export function convCentres(width: number, height: number, kernelSize: number, stride: number): ConvCentres {
  if (kernelSize > width || kernelSize > height) throw new RangeError(`conv centres: kernel ${kernelSize} exceeds the ${width}×${height} input`);
  const outWidth = Math.floor((width - kernelSize) / stride) + 1;
  const outHeight = Math.floor((height - kernelSize) / stride) + 1;
  const half = kernelSize >> 1;
  const positionOf = new Int32Array(width * height).fill(-1);
  for (let oy = 0; oy < outHeight; oy++)
    for (let ox = 0; ox < outWidth; ox++)
      for (let dy = 0; dy < stride; dy++)
        for (let dx = 0; dx < stride; dx++) {
          const py = oy * stride + half + dy;
          const px = ox * stride + half + dx;
          if (py < height && px < width) positionOf[py * width + px] = oy * outWidth + ox;
        }
  return { positionOf, outWidth, outHeight };
}
