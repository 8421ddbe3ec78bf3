# GeneGate. Two commands: `make run` and `make test` (see README.md).
.PHONY: run test setup lint format bench backup restore

run:
	@scripts/run.sh

test:
	@scripts/test.sh

setup:
	@scripts/setup.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

backup:
	@.venv/bin/python manage.py backup_data

# make restore BACKUP=data/backups/20261128-190000
restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=data/backups/<timestamp>"; exit 2; }
	@.venv/bin/python manage.py restore_data "$(BACKUP)"

bench:
	@scripts/bench.sh
