using MlPipeline.Scoring;

namespace MlPipeline.Training.Tests.Scoring;

/// <summary>Training and scoring turn a file into the same tensor: no train/serve skew.</summary>
public sealed class TrainServeParityTests
{
    [Test]
    public void Preprocess_PngOfAnMnistDigit_EqualsTheTrainingTensor()
    {
        var test = Digits.Mnist.Test;
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        using var training = ClassifierTrainer.ToTensor(test.Take(20), classifier.Preprocessing);
        float[] expected = training.data<float>().ToArray();

        for (int i = 0; i < 20; i++)
        {
            float[] served = classifier.Preprocess(Digits.Png(i));

            Assert.That(served, Is.EqualTo(expected.AsSpan(i * 784, 784).ToArray()), $"digit {i}");
        }
    }
}
