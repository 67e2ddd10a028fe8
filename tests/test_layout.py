# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The layout: thin commands over one package, no import circle, TensorFlow from one place.

Read off the source with `ast`, so that a rule broken anywhere fails here.
"""
import ast
import glob
import importlib
import os

import pytest

from tiny_data import REPO

# The card's files and the commands: the only Python files at the top level.
CARD = ('train_flowers', 'eval_flowers', 'inception_resnet_v2', 'inception_preprocessing',
        'dataset_utils')
COMMANDS = ('train_flowers', 'eval_flowers', 'create_tfrecord', 'predict_flowers',
            'export_flowers', 'demo', 'reproduce')
# The one module that imports TensorFlow, and the TF-slim files that import it
# themselves, tf_compat first, as TF-slim's own files import TensorFlow.
TENSORFLOW_IMPORTERS = ('tf_compat', 'inception_resnet_v2', 'inception_preprocessing',
                        'dataset_utils')
# Commands a command may import: eval its get_split and load_batch; the two
# orchestrators the entry points of the others.
ALLOWED_COMMAND_IMPORTS = {
    'eval_flowers': {'train_flowers'},
    'demo': set(COMMANDS) - {'demo'},
    'reproduce': set(COMMANDS) - {'reproduce'},
}
# TF-slim's network and preprocessing keep their shape; every other module stays short.
LONG_FILES_ALLOWED = ('inception_resnet_v2', 'inception_preprocessing')
MAX_MODULE_LINES = 450
MAX_CLASS_LINES = 150
MAX_TOP_LEVEL_FILES = 16


def project_modules():
  """{module name: path} of the top-level files and the transfer package."""
  modules = {}
  for path in glob.glob(os.path.join(REPO, '*.py')):
    modules[os.path.basename(path)[:-3]] = path
  for path in glob.glob(os.path.join(REPO, 'transfer', '**', '*.py'), recursive=True):
    name = os.path.relpath(path, REPO)[:-3].replace(os.sep, '.')
    modules[name[:-len('.__init__')] if name.endswith('.__init__') else name] = path
  return modules


MODULES = project_modules()


def parse(path):
  with open(path) as f:
    return ast.parse(f.read(), path)


def imported(tree, module_name):
  """The names of the project modules `tree` imports, anywhere in it."""
  names = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
      names.add(node.module)
      names.update('%s.%s' % (node.module, alias.name) for alias in node.names)
  found = set()
  for name in names:
    # `from transfer import cli` names transfer.cli; `import transfer.x` names both.
    while name and name not in MODULES:
      name = name.rpartition('.')[0]
    if name and name != module_name:
      found.add(name)
  return found


IMPORTS = {name: imported(parse(path), name) for name, path in MODULES.items()}


def test_at_most_16_python_files_at_the_top_level():
  top = [name for name in MODULES if '.' not in name and name != 'transfer']
  assert len(top) <= MAX_TOP_LEVEL_FILES, sorted(top)
  assert set(CARD) | set(COMMANDS) <= set(top)
  assert set(top) - set(CARD) - set(COMMANDS) == {'tf_compat'}


def test_no_command_imports_another_command():
  for command in COMMANDS:
    others = IMPORTS[command] & set(COMMANDS)
    assert others <= ALLOWED_COMMAND_IMPORTS.get(command, set()), (command, others)


def test_the_package_and_the_card_files_import_no_command():
  for name, imports in IMPORTS.items():
    if name.startswith('transfer') or name in TENSORFLOW_IMPORTERS:
      assert not imports & set(COMMANDS), (name, imports & set(COMMANDS))


def test_dataset_utils_is_a_leaf():
  assert IMPORTS['dataset_utils'] <= {'tf_compat'}


def test_no_import_circle():
  def visit(name, path):
    for other in sorted(IMPORTS[name]):
      if other in path:
        cycle = path[path.index(other):] + [other]
        pytest.fail('import circle: %s' % ' -> '.join(cycle))
      if other not in done:
        visit(other, path + [other])
    done.add(name)

  done = set()
  for name in sorted(MODULES):
    if name not in done:
      visit(name, [name])


def tensorflow_imports(tree):
  """The line numbers of imports of tensorflow or tf_slim themselves (not submodules)."""
  lines = []
  for node in tree.body:
    if isinstance(node, ast.Import):
      if any(a.name.split('.')[0] in ('tensorflow', 'tf_slim') and a.name != 'tensorflow.python'
             for a in node.names):
        lines.append((node.lineno, [a.name for a in node.names]))
  return lines


def test_tensorflow_is_imported_the_compat_way_in_one_place():
  for name, path in MODULES.items():
    tree = parse(path)
    direct = tensorflow_imports(tree)
    if name not in TENSORFLOW_IMPORTERS:
      assert not direct, (name, direct)
    elif name != 'tf_compat':
      first_compat = min(node.lineno for node in tree.body if isinstance(node, ast.Import)
                         and any(a.name == 'tf_compat' for a in node.names))
      assert all(line > first_compat for line, _ in direct), (name, direct)
  # The package imports it first of all, so its modules never need to.
  assert 'tf_compat' in IMPORTS['transfer']


def test_modules_and_classes_stay_short():
  for name, path in MODULES.items():
    with open(path) as f:
      lines = f.read().splitlines()
    if name not in LONG_FILES_ALLOWED:
      assert len(lines) <= MAX_MODULE_LINES, (name, len(lines))
    for node in ast.walk(ast.parse('\n'.join(lines))):
      if isinstance(node, ast.ClassDef):  # its last line: that of its last statement
        last = max(getattr(n, 'lineno', node.lineno) for n in ast.walk(node))
        assert last - node.lineno + 1 <= MAX_CLASS_LINES, (name, node.name)


def string_constants(tree):
  """(line, text) of every string literal in `tree`, docstrings included."""
  for node in ast.walk(tree):
    if type(node).__name__ == 'Str':  # Python 3.7
      yield node.lineno, node.s
    elif type(node).__name__ == 'Constant' and isinstance(node.value, str):
      yield node.lineno, node.value


def test_the_package_reads_the_networks_names_from_the_network_file():
  # Scope and variable names are facts of inception_resnet_v2.py: a copy would drift.
  for name, path in MODULES.items():
    if name.startswith('transfer'):
      spelled = [line for line, text in string_constants(parse(path))
                 if 'InceptionResnetV2/' in text]
      assert not spelled, (name, spelled)


@pytest.mark.parametrize('command', COMMANDS)
def test_every_constant_at_the_top_of_a_command_is_a_flag_of_the_same_name(command):
  module = importlib.import_module(command)
  actions = {option.lstrip('-'): action for action in module.build_parser()._actions
             for option in action.option_strings}
  tree = parse(MODULES[command])
  constants = [node.targets[0].id for node in tree.body
               if isinstance(node, ast.Assign) and len(node.targets) == 1
               and isinstance(node.targets[0], ast.Name) and node.targets[0].id.islower()
               and not node.targets[0].id.startswith('_')]
  for constant in constants:
    value = getattr(module, constant)
    if not isinstance(value, (bool, int, float, str, type(None))):
      continue  # e.g. items_to_descriptions: facts, not knobs
    assert constant in actions, '%s.%s has no --%s flag' % (command, constant, constant)
    default = actions[constant].default
    if actions[constant].nargs != 0:  # store_true flags default to False
      assert default == value or default is None, (command, constant, default, value)


# The command-line layer: the only modules of the package that see the argparse namespace.
COMMAND_LINE_LAYER = ('transfer.cli', 'transfer.flags')
# setattr on something other than a namespace: a protobuf field named by a string.
SETATTR_ALLOWED = {'transfer.runtime'}
MAX_TRAIN_FLOWERS_LINES = 380


def test_the_package_never_takes_the_argparse_namespace():
  for name, path in MODULES.items():
    if not name.startswith('transfer') or name in COMMAND_LINE_LAYER:
      continue
    for node in ast.walk(parse(path)):
      if isinstance(node, (ast.FunctionDef, ast.Lambda)):
        params = node.args.args + node.args.kwonlyargs
        assert 'args' not in [a.arg for a in params], (name, getattr(node, 'name', 'lambda'))


def test_nothing_changes_settings_in_place():
  """No setattr outside the command-line layer, and no `args.x = ...` anywhere."""
  for name, path in MODULES.items():
    for node in ast.walk(parse(path)):
      if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
          node.func.id == 'setattr'):
        assert name in COMMAND_LINE_LAYER or name in SETATTR_ALLOWED, (name, node.lineno)
      targets = node.targets if isinstance(node, ast.Assign) else (
          [node.target] if isinstance(node, ast.AugAssign) else [])
      for target in targets:
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
          assert target.value.id not in ('args', 'settings', 'flags'), (name, node.lineno)


def test_train_flowers_stays_short():
  with open(MODULES['train_flowers']) as f:
    assert len(f.read().splitlines()) <= MAX_TRAIN_FLOWERS_LINES
