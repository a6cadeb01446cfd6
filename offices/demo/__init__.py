"""A demo city, Musterstadt: offices, services, hours, closures and an administrator."""

from offices.demo.city import ADMIN_USERNAME, CITY
from offices.demo.seed import DemoResult, seed_demo

__all__ = ["ADMIN_USERNAME", "CITY", "DemoResult", "seed_demo"]
