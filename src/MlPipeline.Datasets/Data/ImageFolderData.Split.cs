namespace MlPipeline.Data;

// ImageFolderData: The stratified validation split.
public static partial class ImageFolderData
{
    /// <summary>A stratified split: from each class, a seeded shuffle's first share goes to validation.</summary>
    internal static (ImageSet Train, ImageSet Validation) Split(ImageSet all, double share, int seed, List<string> warnings)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        var labels = all.Labels.Span;
        for (int c = 0; c < all.ClassNames.Count; c++)
        {
            var members = new List<int>();
            for (int i = 0; i < all.Count; i++) { if (labels[i] == c) { members.Add(i); } }
            int[] order = [.. members];
            random.Shuffle(order);
            int held = (int)Math.Round(order.Length * share, MidpointRounding.AwayFromZero);
            if (held == 0 || held == order.Length)
            {
                int kept = order.Length < 2 ? 0 : Math.Clamp(held, 1, order.Length - 1);
                string what = order.Length < 2 ? "it is used for training only" : kept == 1 ? "one is held out for validation" : $"{kept} are held out and one is kept for training";
                warnings.Add($"class '{all.ClassNames[c]}' has {order.Length} image(s), too few for a {Percent(share)} validation share (which would hold out {held}); {what}");
                held = kept;
            }
            validation.AddRange(order.Take(held));
            train.AddRange(order.Skip(held));
        }
        train.Sort();
        validation.Sort();
        // Views of the same pixels: nothing is copied.
        return (all.Subset([.. train]), all.Subset([.. validation]));
    }

    /// <summary>A share as a percentage with the digits it needs: 20 %, 99.9 %, 0.05 %.</summary>
    internal static string Percent(double share) => (share * 100).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
