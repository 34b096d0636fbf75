"""ad_tf: Algorithm Distillation on the TensorFlow stack (TF-Agents, Reverb, TFDS/RLDS, TF Serving)."""

import setuptools

# The stack is pinned exactly: tf-agents and Reverb stop at TF 2.15, keras-nlp 0.12.1 is the last
# release on Keras 2, and tensorflow-metadata >= 1.18 breaks with protobuf 4.
INSTALL_REQUIRES = [
    'tensorflow==2.15.1',
    'tf-agents==0.19.0',
    'dm-reverb==0.14.0',
    'tensorflow-probability==0.23.0',
    'keras-nlp==0.12.1',
    'tensorflow-text==2.15.0',
    'tensorflow-datasets==4.9.10',
    'tensorflow-metadata==1.16.1',
    'rlds==0.1.8',
    'gin-config==0.5.0',
    'absl-py==2.5.1',
    'tensorflow-serving-api==2.15.1',
    'matplotlib==3.11.2',
    # tensorflow-datasets needs it to report a missing prepared dataset, but does not declare it.
    'importlib_resources==7.1.0',
]

setuptools.setup(
    name='ad_tf',
    version='0.1.0',
    description='Algorithm Distillation (in-context RL) on TF-Agents, TFDS/RLDS and TF Serving.',
    python_requires='>=3.11,<3.12',
    # `datasets/` is installed as `ad_tf_datasets`, so it never shadows HuggingFace `datasets`.
    packages=(setuptools.find_packages(include=['ad_tf', 'ad_tf.*', 'serving', 'serving.*'])
              + ['ad_tf_datasets', 'ad_tf_datasets.ad_histories']),
    package_dir={'ad_tf_datasets': 'datasets'},
    install_requires=INSTALL_REQUIRES,
    # Beam is an extra: only `generate --runner=beam` imports it, and a user who generates on one
    # machine (or by --task_shard processes) does without its ~30 packages. requirements.lock
    # pins the versions that resolve with it (grpcio 1.65.5, pyarrow 18.1.0, cryptography 47.0.0,
    # python-dateutil 2.9), so the same lock serves installs with and without it.
    extras_require={'beam': ['apache-beam==2.69.0'],
                    'test': ['pytest==9.2.0', 'pytest-xdist==3.8.0', 'portpicker==1.6.0']},
)
