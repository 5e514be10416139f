// The training loss of every pass that learns from labels (expert training, the evaluation
// protocol, the student of a distillation iteration): cross-entropy against hard or soft labels.
#pragma once

#include <torch/torch.h>

namespace trajmatch::train {

// Checks that `labels` fit `count` examples of `numClasses` classes: int64 class indices [count]
// (each in [0, numClasses)), or floating-point class probabilities [count, numClasses] (soft
// labels, as TESLA's and MCT's --teacher_label make). `where` names the tensor in messages.
void checkLabels(const torch::Tensor& labels, int64_t count, int64_t numClasses, const char* where);

// Mean cross-entropy of logits [N, C]: -log softmax(z)_y for hard labels y [N]; for soft labels
// p [N, C], -sum_c p_c log softmax(z)_c, averaged over N, which is PyTorch's cross_entropy with
// probability targets. Twice differentiable in the logits (the unrolled student needs that).
torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& labels);

// The class of each label: itself for hard labels, the most probable class for soft ones.
torch::Tensor labelClasses(const torch::Tensor& labels);

}  // namespace trajmatch::train
