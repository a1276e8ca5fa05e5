using MlPipeline.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>
/// Applies an <see cref="Augmentation"/> to a batch of model inputs [N, C, H, W], each image with its own random
/// draw. The geometry (flip, rotation, shift, zoom) is one affine warp per image through TorchSharp's
/// <c>affine_grid</c> and <c>grid_sample</c> (bilinear, edges repeated, as Keras' default fill); brightness and contrast
/// work on the pixels in [0, 1], undoing and redoing the run's per-channel normalisation. TorchVision's random
/// transforms draw one value per call for the whole batch, and its rotation from an unseeded generator, so they cannot
/// give a per-image, reproducible augmentation.
/// </summary>
internal sealed class Augmenter(Augmentation augmentation, ImagePreprocessing preprocessing, int seed)
{
    /// <summary>The augmented batch (a new tensor in the caller's dispose scope); the same for the same seed, epoch and step.</summary>
    public Tensor Apply(Tensor batch, int epoch, int step)
    {
        if (augmentation.IsNone) { return batch; }
        // Not HashCode.Combine: it differs per process, and a resumed run must draw the same numbers.
        var random = new Random(unchecked((((seed * 1_000_003) + epoch) * 1_000_033) + step));
        int n = (int)batch.shape[0];
        var x = batch;
        if (augmentation.Moves)
        {
            var theta = new float[n * 6];
            for (int i = 0; i < n; i++)
            {
                double angle = Uniform(random, augmentation.Rotate) * Math.PI / 180;
                double scale = 1 + Uniform(random, augmentation.Zoom);
                double tx = Uniform(random, augmentation.Shift) * 2, ty = Uniform(random, augmentation.Shift) * 2;
                double flip = augmentation.Flip && random.NextDouble() < 0.5 ? -1 : 1;
                // Where each output pixel samples the input, in [-1, 1] coordinates: rotate, zoom, mirror, then shift.
                double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
                theta[(i * 6) + 0] = (float)(flip * cos);
                theta[(i * 6) + 1] = (float)-sin;
                theta[(i * 6) + 2] = (float)tx;
                theta[(i * 6) + 3] = (float)(flip * sin);
                theta[(i * 6) + 4] = (float)cos;
                theta[(i * 6) + 5] = (float)ty;
            }
            var grid = nn.functional.affine_grid(tensor(theta, [n, 2, 3]), batch.shape, align_corners: false);
            x = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        }
        if (augmentation.Color > 0)
        {
            var brightness = new float[n];
            var contrast = new float[n];
            for (int i = 0; i < n; i++)
            {
                brightness[i] = (float)(1 + Uniform(random, augmentation.Color));
                contrast[i] = (float)(1 + Uniform(random, augmentation.Color));
            }
            int channels = (int)batch.shape[1];
            var offsets = tensor(preprocessing.Offsets.ToArray(), [1, channels, 1, 1]);
            var scales = tensor(preprocessing.Scales.ToArray(), [1, channels, 1, 1]);
            // Back to pixels in [0, 1]: p = x / scale + offset, then / 255.
            // Scalars held until the calls return (see TrainingTensors.Normalize).
            using var full = 255f.ToScalar();
            using var zero = 0f.ToScalar();
            using var one = 1f.ToScalar();
            var unit = x.div(scales).add_(offsets).div_(full);
            var mean = unit.mean([1, 2, 3], keepdim: true);
            unit = unit.sub(mean).mul_(tensor(contrast, [n, 1, 1, 1])).add_(mean).clamp_(zero, one).mul_(tensor(brightness, [n, 1, 1, 1])).clamp_(zero, one);
            x = unit.mul_(full).sub_(offsets).mul_(scales);
        }
        return x;
    }

    /// <summary>A number drawn evenly from [-range, range].</summary>
    static double Uniform(Random random, double range) => range == 0 ? 0 : ((random.NextDouble() * 2) - 1) * range;
}
